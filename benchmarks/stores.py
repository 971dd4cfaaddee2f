"""The stores of the other backends (MongoDB on a secantus server of the case, SQLite, the
in-process memory store), and the start of each case's store: one interface to count its
sessions, count its traffic and clean up after the case."""

from __future__ import annotations

import json
import secrets
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

from config import APP_CPU, HOST, MEMORY_STORE_NOTE, ONE_READ_KEY, BenchmarkError, RecordCopy
from processes import Processes, free_port, plain_env, tail
from redis_store import RedisStore

# Run with the project's interpreter (which has pymongo): argv is the URL, then what to do.
MONGODB_PROBE = """
import json, sys, bson, pymongo
client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=10000)
if sys.argv[2] == "opcounters":
    print(json.dumps(client.admin.command("serverStatus")["opcounters"]))
    sys.exit()
db = client.get_default_database()
names = [name for name in db.list_collection_names() if not name.startswith("system.")]
if sys.argv[2] == "documents":
    print(json.dumps({name: db[name].count_documents({}) for name in names}))
else:  # copy the largest document (a signed-in session's) to the _id argv[3]
    found = [(len(bson.encode(doc)), name, doc) for name in names for doc in db[name].find()]
    size, name, doc = max(found, key=lambda entry: entry[0])
    doc["_id"] = sys.argv[3]
    if "id" in doc:  # the Flask project's own key, a unique one
        doc["id"] = sys.argv[3]
    db[name].insert_one(doc)
    print(json.dumps({"collection": name, "bytes": size}))
"""


class MongoStore:
    """A secantus MongoDB-protocol server of this run, in memory, pinned to the app's CPU."""

    kind = "mongodb"

    def __init__(self, url: str, python: Path) -> None:
        self.url = url
        self.python = python  # the baked project's interpreter, which has pymongo

    def probe(self, *args: str) -> dict[str, Any]:
        """MONGODB_PROBE run with the project's pymongo; its answer (JSON)."""
        result = subprocess.run(
            [str(self.python), "-c", MONGODB_PROBE, self.url, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise BenchmarkError(f"MongoDB probe failed: {result.stderr[-1000:]}")
        return dict(json.loads(result.stdout))

    def copy_signed_in_record(self) -> RecordCopy:
        """Copy the largest document (a signed-in session's) to `_id` ONE_READ_KEY."""
        copied = self.probe("copy", ONE_READ_KEY)
        env = {
            "BARE_STORE": "mongodb",
            "BARE_STORE_URL": self.url,
            "BARE_RECORD_KEY": ONE_READ_KEY,
            "BARE_RECORD_TABLE": copied["collection"],
        }
        return RecordCopy(env, copied["bytes"], "one MongoDB find")

    def session_count(self) -> int:
        return sum(self.probe("documents").values())

    def clean(self) -> None:
        """The server keeps everything in memory and is stopped with the case."""

    @contextmanager
    def counting(self) -> Iterator[dict[str, Any]]:
        """`serverStatus` opcounters deltas: the server is this case's own."""
        before = self.probe("opcounters")
        result: dict[str, Any] = {}
        yield result
        after = self.probe("opcounters")
        delta = {name: after[name] - before.get(name, 0) for name in after}
        delta["command"] = delta.get("command", 0)  # includes drivers' heartbeats and probes
        result["commands"] = delta
        result["reads"] = delta.get("query", 0) + delta.get("getmore", 0)
        result["writes"] = sum(delta.get(name, 0) for name in ("insert", "update", "delete"))
        result["method"] = "serverStatus opcounters deltas (query+getmore; insert+update+delete)"


class MemoryStore:
    """The memory backend: sessions live in the app's process, out of sight from here."""

    kind = "memory"

    def session_count(self) -> int | None:
        return None

    def clean(self) -> None:
        pass

    @contextmanager
    def counting(self) -> Iterator[dict[str, Any]]:
        result: dict[str, Any] = {}
        yield result
        result.update(commands=None, reads=None, writes=None, method=MEMORY_STORE_NOTE)


# Tables of the SQL database cases that hold no session: Django's record of the migrations
# that `migrate` applied.
NOT_SESSION_TABLES = {"django_migrations"}


class DatabaseStore:
    """The database backend on a SQLite file of this case (the app's default kind of URL)."""

    kind = "database"

    def __init__(self, path: Path) -> None:
        self.path = path

    def session_count(self) -> int | None:
        if not self.path.exists():
            return 0
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            return sum(
                db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in session_tables(db)
            )

    def copy_signed_in_record(self) -> RecordCopy:
        """Copy the largest row (a signed-in session's) to the key ONE_READ_KEY, in the
        same table."""
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.row_factory = sqlite3.Row
            rows = [
                (table, row)
                for table in session_tables(db)
                for row in db.execute(f'SELECT * FROM "{table}"')
            ]
            if not rows:
                raise BenchmarkError("the database holds no session record to copy")
            table, row = max(rows, key=lambda found: row_bytes(found[1]))
            [key_column] = [
                info[1] for info in db.execute(f'PRAGMA table_info("{table}")') if info[5]
            ]
            copy = dict(row) | {key_column: ONE_READ_KEY}
            columns = ", ".join(f'"{column}"' for column in copy)
            marks = ", ".join("?" * len(copy))
            with db:
                db.execute(
                    f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(copy.values())
                )
        env = {
            "BARE_STORE": "database",
            "BARE_STORE_URL": f"sqlite:///{self.path}",
            "BARE_RECORD_KEY": ONE_READ_KEY,
            "BARE_RECORD_TABLE": table,
            "BARE_RECORD_COLUMN": key_column,
        }
        return RecordCopy(env, row_bytes(row), "one SQL SELECT")

    def clean(self) -> None:
        """The file goes with the case's temporary folder."""

    @contextmanager
    def counting(self) -> Iterator[dict[str, Any]]:
        result: dict[str, Any] = {}
        yield result
        result.update(
            commands=None,
            reads=None,
            writes=None,
            method="SQLite runs inside the app's process: statements are not counted from outside",
        )


def session_tables(db: sqlite3.Connection) -> list[str]:
    """The tables of a case's SQLite file that hold sessions (and their index)."""
    found = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return [name for (name,) in found if name not in NOT_SESSION_TABLES]


def row_bytes(row: sqlite3.Row) -> int:
    return sum(len(value) for value in row if isinstance(value, str | bytes))


Store = RedisStore | MongoStore | MemoryStore | DatabaseStore


def start_store(
    processes: Processes, backend: str, project: Path, workdir: Path, prefix: str, redis_url: str
) -> tuple[Store, dict[str, str]]:
    if backend == "memory":
        return MemoryStore(), {}
    if backend == "database":
        path = workdir / f"{project.name}-sessions.sqlite3"
        return DatabaseStore(path), {"DATABASE_URL": f"sqlite:///{path}"}
    if backend == "redis":
        store = RedisStore(redis_url, prefix)
        try:
            store.connect().close()
        except OSError as error:
            raise BenchmarkError(f"no Redis at {redis_url}: {error}") from error
        return store, {"REDIS_URL": redis_url}
    port = free_port()
    argv = ["taskset", "-c", APP_CPU, "uv", "run", "--isolated", "--no-project",
            "--with", "secantusdb", "python", "-m", "secantus", "--host", HOST,
            "--port", str(port), "--storage-path", ":memory:"]  # fmt: skip
    log = workdir / "secantus.log"
    process = processes.start(argv, cwd=workdir, env=plain_env(), log=log)
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise BenchmarkError(f"secantus exited:\n{tail(log)}")
        with suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            break
        if time.monotonic() > deadline:
            raise BenchmarkError(f"secantus did not listen within 120 s:\n{tail(log)}")
        time.sleep(0.2)
    url = f"mongodb://{HOST}:{port}/bench_{secrets.token_hex(4)}"
    return MongoStore(url, project / ".venv" / "bin" / "python"), {"MONGODB_URL": url}
