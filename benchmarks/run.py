"""Benchmark the baked apps against a bare hello-world app of the same framework (issue 8).

    uv run python benchmarks/run.py [--quick] [--frameworks flask,fastapi,django]
                                    [--backends memory,redis,mongodb,database]

For each framework × backend it bakes the template into a temporary folder, installs the
project (`uv sync --no-dev`), starts the app under the production server of its Dockerfile's
CMD with one worker pinned to CPU 0, beside its store and a bare app of the same framework
under the same server; signs a user in through the real flow against the test OIDC provider
that every baked project ships; loads the bare `/`, the app's anonymous `/` and the app's
signed-in `/` with wrk pinned to CPU 1, in interleaved rounds; counts store and provider
traffic per request; and checks that anonymous requests store no session. It prints a table
and writes JSON (benchmarks/results/latest.json). benchmarks/README.md explains the method.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cookiecutter.main import cookiecutter

HOST = "127.0.0.1"  # never `localhost`
BENCHMARKS = Path(__file__).resolve().parent
TEMPLATE = BENCHMARKS.parent
BARE_APPS = BENCHMARKS / "bare"
RESULTS = BENCHMARKS / "results"
README = BENCHMARKS / "README.md"
TABLE_START, TABLE_END = "<!-- results:start -->", "<!-- results:end -->"

FRAMEWORKS = ("flask", "fastapi", "django")
BACKENDS = ("memory", "redis", "mongodb", "database")
# The app and its store on one CPU, the load (wrk, this script) on another; both on the one
# CPU of a one-CPU machine, where the ratios mean less.
APP_CPU, LOAD_CPU = "0", "1" if (os.cpu_count() or 1) > 1 else "0"
CONNECTIONS = 16
SETTLE_SECONDS = 0.5
USER_SUB, USER_NAME = "bench-user", "Bench User"

# Issue 8's budgets: the app's requests/s over the bare app's. MongoDB: report only.
SIGNED_IN_BUDGETS: dict[tuple[str, str], float] = {
    ("flask", "memory"): 0.85,
    ("django", "memory"): 0.85,
    ("fastapi", "memory"): 0.70,
    ("flask", "redis"): 0.70,
    ("django", "redis"): 0.70,
    ("fastapi", "redis"): 0.45,
}
ANONYMOUS_BUDGETS = {"flask": 0.95, "django": 0.95, "fastapi": 0.90}
# The key that the bare apps' `/one-read` GETs: a copy of a signed-in session's record.
ONE_READ_KEY = f"logto-bench-one-read-{secrets.token_hex(4)}"

BARE_ENTRY_POINTS = {"flask": "bare_flask:app", "fastapi": "bare_fastapi:app"}
# Options of gunicorn and uvicorn that take no value (any other option is followed by one).
FLAG_OPTIONS = {"--proxy-headers", "--no-access-log", "--access-log", "--preload", "--reload"}
ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*(:\S+)?$")

REDIS_READS = {"GET", "MGET", "HGET", "HMGET", "HGETALL", "EXISTS", "TTL", "PTTL", "STRLEN", "TYPE"}
REDIS_WRITES = {
    *("SET", "SETEX", "PSETEX", "SETNX", "MSET", "HSET", "HMSET", "GETEX", "GETDEL"),
    *("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "DEL", "UNLINK", "INCR"),
}
MEMORY_STORE_NOTE = (
    "not measurable from outside the process; see the app's store (a bounded dict of the app's own)"
)


@dataclass(frozen=True)
class Mode:
    seconds: float  # load per wrk run
    rounds: int  # interleaved rounds (bare, anonymous, signed-in) per case
    sign_ins: int  # sign-ins counted for provider traffic
    counted_requests: int  # sequential requests counted for store traffic
    anonymous_requests: int  # anonymous requests of the memory check
    profile_page: bool  # also load /profile (calls userinfo) once
    bounded_sign_ins: int  # memory backend: sign-ins against a store bounded to memory_bound
    memory_bound: int  # SESSION_MEMORY_MAX_ENTRIES for those sign-ins


QUICK = Mode(seconds=1, rounds=1, sign_ins=2, counted_requests=20, anonymous_requests=2000,
             profile_page=False, bounded_sign_ins=300, memory_bound=100)  # fmt: skip
# Short runs, many rounds: on a shared (virtual) machine the noise comes in bursts of
# seconds, and a burst then slows one round of each target, not one target's whole load.
FULL = Mode(seconds=2, rounds=8, sign_ins=10, counted_requests=200, anonymous_requests=10_000,
            profile_page=True, bounded_sign_ins=10_000, memory_bound=1_000)  # fmt: skip


def http_client(**options: Any) -> httpx.Client:
    """A client for this script's requests: every URL here is plain http on 127.0.0.1.

    Certificates are never needed, and loading them costs each new client ~30 ms, which
    would have the sign-ins measure httpx rather than the apps.
    """
    return httpx.Client(verify=False, trust_env=False, timeout=30, **options)


def http_get(url: str, cookie: str | None = None) -> httpx.Response:
    with http_client() as client:
        return client.get(url, headers={"Cookie": cookie} if cookie else None)


class BenchmarkError(Exception):
    """A case could not be measured; the message says why."""


# --- processes ---------------------------------------------------------------------------


class Processes:
    """Every process this run starts, each in its own process group; all are stopped."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[str]] = []

    def start(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        log: Path,
        stdout_pipe: bool = False,
    ) -> subprocess.Popen[str]:
        with log.open("a") as out:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if stdout_pipe else out,
                stderr=out,
                text=True,
                start_new_session=True,  # its own process group, stopped as a whole
            )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[str]) -> None:
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        if process.stdout is not None:
            process.stdout.close()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def plain_env(**extra: str) -> dict[str, str]:
    """The environment of a project's process: outside this repo's virtualenv."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.update(extra)
    return env


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchmarkError(f"no VmRSS for pid {pid}")


def serving_pid(pid: int) -> int:
    """The process that serves requests: gunicorn's one worker, or uvicorn itself."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = children.read_text().split() if children.exists() else []
    return int(pids[0]) if pids else pid


# --- baking and serving ------------------------------------------------------------------


def git(*args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(TEMPLATE), *args], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode(errors="replace").strip()


def template_at(commit: str | None, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """The template to bake: this checkout as it is, or the files of one commit."""
    if commit is None:
        changes = git("status", "--porcelain", "--", "{{cookiecutter.project_slug}}", "hooks")
        return TEMPLATE, {
            "source": "working tree",
            "head": git("rev-parse", "--short", "HEAD"),
            "uncommitted_changes": bool(changes),
        }
    sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    archive = subprocess.run(
        ["git", "-C", str(TEMPLATE), "archive", "--format=tar", sha],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    exported = workdir / "template"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(exported, filter="data")
    return exported, {"source": "commit", "head": sha[:12], "uncommitted_changes": False}


def bake(framework: str, backend: str, into: Path, template: Path) -> Path:
    project = cookiecutter(
        str(template),
        no_input=True,
        output_dir=str(into),
        extra_context={
            "project_name": f"Bench {framework} {backend}",
            "framework": framework,
            "session_backend": backend,
        },
    )
    return Path(project)


def uv_sync(project: Path, log: Path) -> None:
    with log.open("a") as out:
        result = subprocess.run(
            ["uv", "sync", "--no-dev"],
            cwd=project,
            env=plain_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    if result.returncode != 0:
        raise BenchmarkError(f"uv sync --no-dev failed:\n{tail(log)}")


def dockerfile_commands(project: Path) -> tuple[list[list[str]], list[str]]:
    """What the Dockerfile's CMD runs: the commands before the server (e.g. `manage.py
    migrate`, chained with `&&`), and the production server's argv (one worker)."""
    match = re.search(r"^CMD\s+(\[.*\])\s*$", (project / "Dockerfile").read_text(), re.MULTILINE)
    if not match:
        raise BenchmarkError("the Dockerfile has no CMD [...] line")
    argv: list[str] = json.loads(match[1])
    steps = [argv]
    if argv[:2] == ["sh", "-c"]:
        steps = [shlex.split(step) for step in argv[2].split("&&")]
    *setup, server = steps
    if server[0] == "exec":
        server = server[1:]
    server = [
        token.replace("${WEB_CONCURRENCY}", "1").replace("$WEB_CONCURRENCY", "1")
        for token in server
    ]
    return setup, server


def dockerfile_command(project: Path) -> list[str]:
    """The production server's argv from the Dockerfile's CMD (one worker)."""
    return dockerfile_commands(project)[1]


def entry_point_index(argv: list[str]) -> int:
    """Where the app (`module:app`, `config.wsgi`) stands among the server's arguments."""
    for index in range(len(argv) - 1, 0, -1):
        token, before = argv[index], argv[index - 1]
        takes_value = before.startswith("-") and "=" not in before and before not in FLAG_OPTIONS
        if ENTRY_POINT.match(token) and not takes_value and ("." in token or ":" in token):
            return index
    raise BenchmarkError(f"no app entry point in {shlex.join(argv)}")


def bind_to(argv: list[str], port: int) -> list[str]:
    """The same command, listening on 127.0.0.1:<port> only."""
    bound = []
    for token, before in zip(argv, ["", *argv], strict=False):
        token = token.replace("0.0.0.0", HOST)
        if token == "8000" and before == "--port":
            token = str(port)
        token = re.sub(r":8000$", f":{port}", token)
        bound.append(token)
    return bound


def bare_entry_point(framework: str, app_entry_point: str) -> str:
    if framework == "django":
        return (
            "bare_django:asgi_application"
            if "asgi" in app_entry_point
            else "bare_django:application"
        )
    return BARE_ENTRY_POINTS[framework]


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[str]
    argv: list[str]
    log: Path

    @property
    def worker_pid(self) -> int:
        return serving_pid(self.process.pid)


def start_server(
    processes: Processes,
    name: str,
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    port: int,
    log: Path,
    ready_path: str,
) -> Server:
    pinned = ["taskset", "-c", APP_CPU, *argv]
    process = processes.start(pinned, cwd=cwd, env=env, log=log)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"{name} exited with {process.returncode}:\n{tail(log)}")
        with suppress(httpx.HTTPError):
            if http_get(url + ready_path).status_code < 500:
                return Server(name, url, process, pinned, log)
        time.sleep(0.2)
    raise BenchmarkError(f"{name} did not answer {ready_path} within 60 s:\n{tail(log)}")


# --- the OIDC provider -------------------------------------------------------------------

# werkzeug's access log: `"GET /oidc/jwks HTTP/1.1" 200`, some lines wrapped in ANSI colours.
PROVIDER_LINE = re.compile(r'"(?:\x1b\[[\d;]*m)?(?:GET|POST|PUT|DELETE) (\S+) HTTP/[\d.]+')


@dataclass
class Provider:
    endpoint: str
    log: Path

    def requests(self) -> list[str]:
        """The paths the provider has answered so far (its werkzeug access log)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [match[1] for match in PROVIDER_LINE.finditer(text)]


def provider_kind(path: str) -> str:
    for marker, kind in (
        (".well-known/openid-configuration", "discovery"),
        ("jwks", "jwks"),
        ("/token", "token"),
        ("/authorize", "authorize"),
        ("userinfo", "userinfo"),
        ("/users/", "user_admin"),
        ("end_session", "end_session"),
    ):
        if marker in path:
            return kind
    return "other"


def start_provider(processes: Processes, project: Path, workdir: Path) -> Provider:
    """The project's tests/oidc_provider.py, in a throwaway env with its dev dependencies."""
    wanted = {"oidc-provider-mock", "authlib", "httpx"}
    dev = tomllib.loads((project / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    specs = [spec for spec in dev if re.split(r"[\s<>=~!\[;]", spec)[0].lower() in wanted]
    withs = [arg for spec in specs for arg in ("--with", spec)]
    argv = ["uv", "run", "--isolated", "--no-project", *withs, "python", "-W", "ignore",
            str(project / "tests" / "oidc_provider.py")]  # fmt: skip
    log = workdir / "provider.log"
    process = processes.start(argv, cwd=workdir, env=plain_env(), log=log, stdout_pipe=True)
    assert process.stdout is not None
    port_line = process.stdout.readline()
    if not port_line.strip().isdigit():
        raise BenchmarkError(f"the OIDC provider did not start:\n{tail(log)}")
    return Provider(f"http://{HOST}:{int(port_line)}", log)


def sign_in(app_url: str, provider: Provider, *, check: bool = True) -> str:
    """The real flow: /sign-in, the provider's form, /callback; returns the Cookie header.

    `check`: also load `/` with the new cookie and make sure it shows the user.
    """
    with http_client(base_url=app_url) as browser:
        started = browser.get("/sign-in")
        if started.status_code not in (302, 303, 307):
            raise BenchmarkError(f"/sign-in answered {started.status_code}: {started.text[:300]}")
        with http_client() as provider_form:
            authorized = provider_form.post(started.headers["location"], data={"sub": USER_SUB})
        if authorized.status_code != 302:
            raise BenchmarkError(f"the provider answered {authorized.status_code}")
        finished = browser.get(authorized.headers["location"])
        if finished.status_code not in (302, 303, 307):
            raise BenchmarkError(
                f"/callback answered {finished.status_code}: {finished.text[:300]}"
            )
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
    if check and not signed_in_with(app_url, cookie):
        page = http_get(app_url + "/", cookie)
        raise BenchmarkError(f"signed-in / does not show who is signed in:\n{page.text[:500]}")
    return cookie


def signed_in_with(app_url: str, cookie: str) -> bool:
    """Whether the app's `/` shows the benchmark's user to the browser with `cookie`."""
    page = http_get(app_url + "/", cookie)
    return page.status_code == 200 and (USER_NAME in page.text or USER_SUB in page.text)


# --- stores ------------------------------------------------------------------------------


class RedisError(Exception):
    pass


class RedisConnection:
    """Just enough of RESP to count commands and keys (this repo's env has no Redis client)."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.reader = self.sock.makefile("rb")

    def send(self, *args: str) -> None:
        parts = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(parts))

    def command(self, *args: str) -> Any:
        self.send(*args)
        return self.read()

    def read(self) -> Any:
        line = self.reader.readline()
        if not line:
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode(errors="replace")
        if kind == b"-":
            raise RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.reader.read(size + 2)[:-2].decode(errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self.read() for _ in range(size)]
        raise RedisError(f"unexpected reply {line!r}")

    def close(self) -> None:
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.reader.close()
        self.sock.close()


MONITOR_LINE = re.compile(r'^\+?[\d.]+ \[\d+ (\S+)\] "([^"]+)"(.*)$')


class RedisStore:
    """Redis at REDIS_URL's host and port, with this run's own key prefix."""

    kind = "redis"

    def __init__(self, url: str, prefix: str) -> None:
        match = re.match(r"redis://([^:/]+):(\d+)(?:/(\d+))?", url)
        if not match:
            raise BenchmarkError(f"cannot read REDIS_URL {url!r}")
        self.url, self.host, self.port = url, match[1], int(match[2])
        self.db = match[3] or "0"
        self.prefix = prefix

    def connect(self) -> RedisConnection:
        connection = RedisConnection(self.host, self.port)
        connection.command("SELECT", self.db)
        return connection

    def keys(self) -> list[str]:
        connection = self.connect()
        try:
            cursor, found = "0", []
            while True:
                cursor, batch = connection.command(
                    "SCAN", cursor, "MATCH", f"*{self.prefix}*", "COUNT", "1000"
                )
                found.extend(batch)
                if cursor == "0":
                    return found
        finally:
            connection.close()

    def session_count(self) -> int:
        return len(self.keys())

    def clean(self) -> None:
        keys = self.keys()
        connection = self.connect()
        try:
            for start in range(0, len(keys), 500):
                connection.command("DEL", *keys[start : start + 500])
        finally:
            connection.close()

    def copy_largest_record(self, to_key: str) -> int:
        """Copy the largest string under this run's prefix (a signed-in session's record)
        to `to_key`, outside the prefix; returns its size in bytes."""
        connection = self.connect()
        try:
            sizes = {
                key: connection.command("STRLEN", key)
                for key in self.keys()
                if connection.command("TYPE", key) == "string"
            }
            if not sizes:
                raise BenchmarkError("Redis holds no session record to copy")
            largest = max(sizes, key=sizes.__getitem__)
            connection.command("COPY", largest, to_key, "REPLACE")
            return sizes[largest]
        finally:
            connection.close()

    def delete(self, key: str) -> None:
        connection = self.connect()
        try:
            connection.command("DEL", key)
        finally:
            connection.close()

    def server_pid(self) -> int | None:
        """The Redis server's process id, when it runs on this machine."""
        if self.host not in (HOST, "localhost"):
            return None
        connection = self.connect()
        try:
            text = connection.command("INFO", "server")
        finally:
            connection.close()
        match = re.search(r"^process_id:(\d+)", text, re.MULTILINE)
        return int(match[1]) if match else None

    def commandstats(self) -> Counter[str]:
        connection = self.connect()
        try:
            text = connection.command("INFO", "commandstats")
        finally:
            connection.close()
        return Counter(
            {
                match[1].upper(): int(match[2])
                for match in re.finditer(r"cmdstat_(\S+?):calls=(\d+)", text)
            }
        )

    @contextmanager
    def counting(self) -> Iterator[dict[str, Any]]:
        """Count the commands on this run's keys while the block runs (MONITOR, filtered).

        The server is shared, so `INFO commandstats` deltas include other clients' commands;
        they are kept as `server_wide_delta` for reference only.
        """
        seen: list[tuple[str, str, bool]] = []
        marker = f"{self.prefix}end-{secrets.token_hex(4)}"
        done = threading.Event()
        monitor = self.connect()
        monitor.command("MONITOR")

        def watch() -> None:
            with suppress(OSError, ValueError, RedisError):
                while True:
                    line = monitor.reader.readline().decode(errors="replace").rstrip("\r\n")
                    if not line:
                        return
                    if marker in line:
                        done.set()
                        return
                    if match := MONITOR_LINE.match(line):
                        seen.append((match[1], match[2].upper(), self.prefix in match[3]))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        before = self.commandstats()
        result: dict[str, Any] = {}
        try:
            yield result
        finally:
            after = self.commandstats()
            connection = self.connect()
            connection.command("ECHO", marker)
            connection.close()
            done.wait(10)
            monitor.close()
            watcher.join(5)
        app_clients = {client for client, _, on_our_keys in seen if on_our_keys}
        commands = Counter(command for client, command, _ in seen if client in app_clients)
        result["commands"] = dict(commands)
        result["reads"] = sum(n for command, n in commands.items() if command in REDIS_READS)
        result["writes"] = sum(n for command, n in commands.items() if command in REDIS_WRITES)
        result["server_wide_delta"] = dict((after - before) - Counter({"INFO": 1, "SELECT": 1}))
        result["method"] = (
            "MONITOR, counting every command of the connections that touched this run's keys"
        )


class MongoStore:
    """A secantus MongoDB-protocol server of this run, in memory, pinned to the app's CPU."""

    kind = "mongodb"

    def __init__(self, url: str, python: Path) -> None:
        self.url = url
        self.python = python  # the baked project's interpreter, which has pymongo

    def probe(self, what: str) -> dict[str, Any]:
        code = (
            "import json, sys, pymongo\n"
            "client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=10000)\n"
            "if sys.argv[2] == 'opcounters':\n"
            "    print(json.dumps(client.admin.command('serverStatus')['opcounters']))\n"
            "else:\n"
            "    db = client.get_default_database()\n"
            "    names = [n for n in db.list_collection_names() if not n.startswith('system.')]\n"
            "    print(json.dumps({n: db[n].count_documents({}) for n in names}))\n"
        )
        result = subprocess.run(
            [str(self.python), "-c", code, self.url, what],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise BenchmarkError(f"MongoDB probe failed: {result.stderr[-1000:]}")
        return dict(json.loads(result.stdout))

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
            tables = [
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master"
                    " WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
                if row[0] not in NOT_SESSION_TABLES
            ]
            return sum(
                db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables
            )

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


Store = RedisStore | MongoStore | MemoryStore | DatabaseStore


@contextmanager
def pinned_beside_the_app(pid: int | None) -> Iterator[str]:
    """Pin an already running store server (the machine's Redis) to the app's CPU for a case.

    Issue 8 measures "server and store on one core"; a store left free to run on the load
    generator's CPU makes every read cross CPUs, which costs the app more than the read. The
    server's own affinity comes back afterwards. Yields what was done, for the report.
    """
    tasks = Path(f"/proc/{pid}/task")
    if pid is None or not tasks.is_dir():
        yield "not pinned: the store does not run on this machine"
        return
    before: dict[int, set[int]] = {}
    try:
        for task in map(int, os.listdir(tasks)):  # every thread, as `taskset -a` does
            before[task] = os.sched_getaffinity(task)
            os.sched_setaffinity(task, {int(APP_CPU)})
    except OSError as error:
        yield f"not pinned: {error}"
    else:
        yield f"pinned to CPU {APP_CPU} with the app"
    finally:
        for task, cpus in before.items():
            with suppress(OSError):
                os.sched_setaffinity(task, cpus)


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


# --- load --------------------------------------------------------------------------------


@dataclass
class Load:
    requests_per_second: float
    requests: int
    p50_ms: float
    p99_ms: float
    bad_responses: int  # non-2xx/3xx and socket errors
    cpu_ms_per_request: float | None  # the serving process's CPU time (user + system)


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if not match:
        raise BenchmarkError(f"no {percentile}% latency in wrk's output:\n{output}")
    return round(float(match[1]) * WRK_UNITS[match[2]], 3)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: float, cookie: str | None = None, pid: int | None = None) -> Load:
    argv = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s",
            "--latency", "--timeout", "10s"]  # fmt: skip
    if cookie:
        argv += ["-H", f"Cookie: {cookie}"]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    result = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    # A server still answers the requests queued when wrk stopped (gunicorn's sync worker has
    # up to -c of them in its backlog): let it finish, so they count towards nothing else.
    time.sleep(SETTLE_SECONDS)
    cpu = cpu_seconds(pid) - cpu_before if pid else None
    output = result.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    if result.returncode != 0 or not rate or not count:
        raise BenchmarkError(f"wrk failed on {url}:\n{output}{result.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    # gunicorn's sync worker closes every connection, which wrk counts as read errors.
    socket_errors = int(errors[1]) + int(errors[3]) + int(errors[4]) if errors else 0
    return Load(
        requests_per_second=float(rate[1]),
        requests=int(count[1]),
        p50_ms=wrk_latency(output, "50"),
        p99_ms=wrk_latency(output, "99"),
        bad_responses=(int(bad[1]) if bad else 0) + socket_errors,
        cpu_ms_per_request=None if cpu is None else round(cpu * 1000 / max(int(count[1]), 1), 3),
    )


def summarize(loads: list[Load]) -> dict[str, Any]:
    return {
        "requests_per_second": round(statistics.median(x.requests_per_second for x in loads), 1),
        "p50_ms": round(statistics.median(x.p50_ms for x in loads), 3),
        "p99_ms": round(statistics.median(x.p99_ms for x in loads), 3),
        "requests": sum(x.requests for x in loads),
        "bad_responses": sum(x.bad_responses for x in loads),
        "rounds": [x.requests_per_second for x in loads],
        "cpu_ms_per_request": median_or_none([x.cpu_ms_per_request for x in loads]),
    }


def paired_ratio(app: list[Load], bare: list[Load]) -> float:
    """The median over the rounds of the app's req/s over the bare app's in the same round.

    A round's targets run seconds apart: when the machine's speed drifts (a shared host),
    each round's ratio still compares like with like, where the medians of the two
    targets' rounds may come from different moments.
    """
    return statistics.median(
        mine.requests_per_second / theirs.requests_per_second
        for mine, theirs in zip(app, bare, strict=True)
    )


def median_or_none(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(statistics.median(known), 3) if known else None


def cpu_ratio(bare: dict[str, Any], app: dict[str, Any]) -> float | None:
    """The bare app's CPU time per request over the app's: what the req/s ratio would be
    on an idle CPU, and much steadier than it on a busy machine."""
    if not bare["cpu_ms_per_request"] or not app["cpu_ms_per_request"]:
        return None
    return round(bare["cpu_ms_per_request"] / app["cpu_ms_per_request"], 3)


def verdict(ratio: float, budget: float | None) -> dict[str, Any]:
    if budget is None:
        return {"ratio": round(ratio, 3), "budget": None, "meets": None, "missed_by": None}
    meets = ratio >= budget
    return {
        "ratio": round(ratio, 3),
        "budget": budget,
        "meets": meets,
        "missed_by": None if meets else round(budget - ratio, 3),
    }


# --- one case ----------------------------------------------------------------------------


@dataclass
class Case:
    framework: str
    backend: str
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.framework}-{self.backend}"


def count_requests(
    store: Store, provider: Provider, url: str, cookie: str | None, requests: int
) -> dict[str, Any]:
    """Store and provider traffic of `requests` sequential requests, per request."""
    provider_before = len(provider.requests())
    headers = {"Cookie": cookie} if cookie else {}
    statuses: Counter[int] = Counter()
    set_cookies = 0
    with store.counting() as traffic, http_client() as client:
        for _ in range(requests):
            response = client.get(url, headers=headers)
            client.cookies.clear()
            statuses[response.status_code] += 1
            set_cookies += "set-cookie" in response.headers
    provider_paths = provider.requests()[provider_before:]
    per_request = {
        "requests": requests,
        "statuses": {str(code): n for code, n in statuses.items()},
        "responses_setting_a_cookie": set_cookies,
        "provider_requests": dict(Counter(provider_kind(path) for path in provider_paths)),
        "store_method": traffic["method"],
        "store_commands": traffic["commands"],
    }
    for kind in ("reads", "writes"):
        total = traffic[kind]
        per_request[f"store_{kind}_per_request"] = None if total is None else total / requests
    return per_request


def raw_get(host: str, port: int, path: str) -> tuple[int, bool]:
    """One GET on its own connection, as lean as a client gets: (status, set a cookie?)."""
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head = b"".join(chunks).split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head.split(" ", 2)[1])
    return status, bool(re.search(r"^set-cookie:", head, re.IGNORECASE | re.MULTILINE))


def fixed_requests(url: str, count: int, concurrency: int = 8) -> dict[str, Any]:
    """Exactly `count` GETs of `url` from `concurrency` threads (wrk only runs for a time)."""
    match = re.match(r"http://([^:/]+):(\d+)(/.*)$", url)
    if not match:
        raise BenchmarkError(f"not a plain http URL: {url}")
    host, port, path = match[1], int(match[2]), match[3]
    statuses: Counter[int] = Counter()
    cookies = 0
    lock = threading.Lock()
    left = iter(range(count))

    def client() -> None:
        nonlocal cookies
        for _ in left:
            status, set_cookie = raw_get(host, port, path)
            with lock:
                statuses[status] += 1
                cookies += set_cookie

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "requests": sum(statuses.values()),
        "seconds": round(time.monotonic() - started, 2),
        "statuses": {str(code): n for code, n in statuses.items()},
        "responses_setting_a_cookie": cookies,
    }


def anonymous_memory_check(server: Server, store: Store, requests: int) -> dict[str, Any]:
    """`requests` anonymous requests: sessions stored and the worker's RSS before and after."""
    pid = server.worker_pid
    sessions_before, rss_before = store.session_count(), rss_kib(pid)
    sent = fixed_requests(server.url + "/", requests)
    sessions_after, rss_after = store.session_count(), rss_kib(pid)
    if server.worker_pid != pid:
        raise BenchmarkError(
            f"the worker was replaced during the anonymous requests:\n{tail(server.log)}"
        )
    return sent | {
        "sessions_before": sessions_before,
        "sessions_after": sessions_after,
        "sessions_note": None if sessions_after is not None else MEMORY_STORE_NOTE,
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_after,
        "rss_kib_growth": rss_after - rss_before,
        "sets_cookie": bool(sent["responses_setting_a_cookie"]),
    }


def frame_package(frame: str) -> str:
    """`Flask.wsgi_app (flask/app.py:1511)` -> `flask`; the project's own code by its module."""
    match = re.search(r"\(([^():]+)(?::\d+)?\)$", frame)
    path = match[1] if match else frame
    return path.split("/")[0].removesuffix(".py")


def profile_worker(
    pid: int, url: str, cookie: str | None, seconds: float, out: Path
) -> dict[str, Any]:
    """py-spy (from PyPI, in a throwaway env) on the worker while wrk loads `url`."""
    argv = ["uv", "run", "--isolated", "--no-project", "--with", "py-spy", "py-spy", "record",
            "--pid", str(pid), "--duration", f"{max(1, round(seconds))}", "--rate", "250",
            "--gil", "--format", "raw", "--nonblocking", "--output", str(out)]  # fmt: skip
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # let py-spy attach
    with suppress(BenchmarkError):
        wrk(url, seconds, cookie=cookie)
    _, errors = spy.communicate(timeout=seconds + 120)
    if spy.returncode != 0 or not out.exists():
        return {"error": errors[-1000:]}
    samples: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if frame]
        if not frames:
            continue
        total += count
        samples[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for package in {frame_package(frame) for frame in frames}:
            packages[package] += count
    return {
        "samples": total,
        "raw_profile": str(out),
        "by_package": [[name, round(n / total, 3)] for name, n in packages.most_common(25)],
        "top_self": [[frame, round(n / total, 3)] for frame, n in samples.most_common(12)],
        "top_inclusive": [[frame, round(n / total, 3)] for frame, n in inclusive.most_common(40)],
    }


def run_case(
    case: Case,
    *,
    mode: Mode,
    processes: Processes,
    provider: Provider,
    project: Path,
    bare: Server,
    workdir: Path,
    redis_url: str,
    profile: bool,
) -> None:
    result = case.result
    prefix = f"logto-bench-{secrets.token_hex(4)}:{case.name}:"
    already_running = set(processes.running)
    store: Store | None = None
    pinning = ExitStack()
    try:
        store, store_env = start_store(processes, case.backend, project, workdir, prefix, redis_url)
        if isinstance(store, RedisStore):
            result["store_cpu"] = pinning.enter_context(pinned_beside_the_app(store.server_pid()))
        port = free_port()
        env = plain_env(
            PATH=f"{project / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            APP_ENV="development",
            BASE_URL=f"http://{HOST}:{port}",
            LOGTO_ENDPOINT=provider.endpoint,
            LOGTO_APP_ID="bench-app",
            LOGTO_APP_SECRET="bench-app-secret",
            SESSION_SECRET=secrets.token_urlsafe(48),
            SESSION_KEY_PREFIX=prefix,
            **store_env,
        )
        setup, server = dockerfile_commands(project)
        for step in setup:  # e.g. Django's `manage.py migrate`, before the server starts
            step[0] = str(project / ".venv" / "bin" / step[0])
            done = subprocess.run(step, cwd=project, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BenchmarkError(f"{shlex.join(step)} failed:\n{done.stderr[-2000:]}")
        argv = bind_to(server, port)
        argv[0] = str(project / ".venv" / "bin" / argv[0])

        def start_app(log_name: str, **extra_env: str) -> Server:
            return start_server(
                processes, f"{case.name} app", argv, cwd=project, env=env | extra_env,
                port=port, log=workdir / f"{case.name}-{log_name}.log", ready_path="/healthz",
            )  # fmt: skip

        app = start_app("app")
        result["server_command"] = shlex.join(app.argv)
        for _ in range(100):  # warm up: imports, templates, the first store connection
            http_get(app.url + "/")

        result["anonymous_memory"] = anonymous_memory_check(app, store, mode.anonymous_requests)

        provider_before = len(provider.requests())
        cookie = sign_in(app.url, provider)
        for _ in range(mode.sign_ins - 1):
            sign_in(app.url, provider)
        paths = provider.requests()[provider_before:]
        result["provider_per_sign_in"] = {
            "sign_ins": mode.sign_ins,
            "note": "the first sign-in of a fresh app process; `authorize` is the browser's form",
            "requests": dict(Counter(provider_kind(path) for path in paths)),
        }
        signed_in_page = http_get(app.url + "/", cookie)
        result["signed_in_sets_cookie"] = "set-cookie" in signed_in_page.headers

        targets = {
            "bare": (bare.url + "/", None, bare.worker_pid),
            "anonymous": (app.url + "/", None, app.worker_pid),
            "signed_in": (app.url + "/", cookie, app.worker_pid),
        }
        if isinstance(store, RedisStore):
            # The floor: the bare app after one GET of a copy of the session's record, in
            # this project's env (the shared bare app's may have no Redis client).
            record_bytes = store.copy_largest_record(ONE_READ_KEY)
            floor = start_bare(processes, case.framework, project, workdir, redis_url)
            if (status := http_get(floor.url + "/one-read").status_code) != 200:
                raise BenchmarkError(f"the bare app's /one-read answered {status}")
            targets["one_read"] = (floor.url + "/one-read", None, floor.worker_pid)
        loads: dict[str, list[Load]] = {target: [] for target in targets}
        for url, target_cookie, _ in targets.values():  # warm-up, not counted
            wrk(url, min(1.0, mode.seconds), cookie=target_cookie)
        for _ in range(mode.rounds):  # interleaved: bare, app, bare, app...
            for target, (url, target_cookie, pid) in targets.items():
                loads[target].append(wrk(url, mode.seconds, cookie=target_cookie, pid=pid))
        summaries = {target: summarize(runs) for target, runs in loads.items()}
        bare_rate = summaries["bare"]["requests_per_second"]
        result["bare"] = summaries["bare"]
        ratios = {target: paired_ratio(runs, loads["bare"]) for target, runs in loads.items()}
        result["anonymous"] = summaries["anonymous"] | verdict(
            ratios["anonymous"], ANONYMOUS_BUDGETS[case.framework]
        )
        result["signed_in"] = summaries["signed_in"] | verdict(
            ratios["signed_in"], SIGNED_IN_BUDGETS.get((case.framework, case.backend))
        )
        if "one_read" in summaries:
            result["one_read"] = summaries["one_read"] | {
                "ratio": round(ratios["one_read"], 3),
                "record_bytes": record_bytes,
                "note": "the bare app after one Redis GET of a copy of a signed-in session's "
                "record, through redis-py as the app reads: the floor for a page whose "
                "session lives in Redis",
            }
        for target in ("anonymous", "signed_in", "one_read"):
            if target in result:
                result[target]["cpu_ratio"] = cpu_ratio(summaries["bare"], summaries[target])
                result[target]["ratio_of_medians"] = round(
                    summaries[target]["requests_per_second"] / bare_rate, 3
                )
        if mode.profile_page:
            page = summarize([wrk(app.url + "/profile", mode.seconds, cookie=cookie)])
            result["profile_page"] = page | {
                "ratio": round(page["requests_per_second"] / bare_rate, 3),
                "note": "one run; every request calls the provider's userinfo",
            }

        result["store_traffic"] = {
            "anonymous": count_requests(
                store, provider, app.url + "/", None, mode.counted_requests
            ),
            "signed_in": count_requests(
                store, provider, app.url + "/", cookie, mode.counted_requests
            ),
        }
        result["anonymous"]["checks"] = anonymous_checks(result)
        if profile:
            result["profile"] = {
                route: profile_worker(
                    app.worker_pid,
                    app.url + "/",
                    route_cookie,
                    max(mode.seconds, 5),
                    RESULTS / f"profile-{case.name}-{route}.txt",
                )
                for route, route_cookie in (("anonymous", None), ("signed_in", cookie))
            }
        if case.backend == "memory":
            # A fresh process whose store holds fewer sessions than there will be sign-ins.
            processes.stop(app.process)
            bound = mode.memory_bound
            app = start_app("bounded-app", SESSION_MEMORY_MAX_ENTRIES=str(bound))
            result["memory_bound"] = memory_bound_check(app, provider, mode.bounded_sign_ins, bound)
        result["status"] = "ok"
    except (BenchmarkError, httpx.HTTPError, OSError, subprocess.SubprocessError) as error:
        result["status"] = "failed"
        result["error"] = str(error)[-3000:]
    finally:
        pinning.close()
        if store is not None:
            with suppress(BenchmarkError, OSError, RedisError):
                store.clean()
            if isinstance(store, RedisStore):
                with suppress(OSError, RedisError):
                    store.delete(ONE_READ_KEY)
        for process in reversed(list(processes.running)):  # the app and its store
            if process not in already_running:
                processes.stop(process)


def memory_bound_check(
    server: Server, provider: Provider, sign_ins: int, bound: int, threads: int = 8
) -> dict[str, Any]:
    """`sign_ins` real sign-ins against a memory store that keeps `bound` sessions: how many
    stay signed in (at most `bound`, and the newest), and the worker's RSS as they pile up."""
    pid = server.worker_pid
    cookies: list[str] = []  # in the order the sign-ins started, 8 at a time
    rss_kib_after: dict[str, int] = {"0": rss_kib(pid)}
    started = time.monotonic()
    quarters = [round(sign_ins * share / 4) for share in range(5)]
    with ThreadPoolExecutor(threads) as pool:
        for done_before, done_after in itertools.pairwise(quarters):
            batch = range(done_after - done_before)
            # Unchecked: in a full store, other sign-ins may evict a session at once.
            cookies += pool.map(lambda _: sign_in(server.url, provider, check=False), batch)
            rss_kib_after[str(done_after)] = rss_kib(pid)
    seconds = time.monotonic() - started
    if server.worker_pid != pid:
        raise BenchmarkError(f"the worker was replaced during the sign-ins:\n{tail(server.log)}")
    signed_in = [signed_in_with(server.url, cookie) for cookie in cookies]
    # The newest and oldest sign-ins to look at. Django's store also holds the session
    # index, whose records count against the bound: a tenth is safe.
    sample = min(bound // 10, 50)
    newest_kept = all(signed_in[-sample:])
    oldest_evicted = not any(signed_in[:sample])
    still_signed_in = sum(signed_in)
    return {
        "sign_ins": len(cookies),
        "bound": bound,
        "sign_ins_per_second": round(len(cookies) / seconds, 1),
        "still_signed_in": still_signed_in,
        "newest_kept": newest_kept,
        "oldest_evicted": oldest_evicted,
        "rss_kib_after_sign_ins": rss_kib_after,
        "hold": still_signed_in <= bound and newest_kept and oldest_evicted,
    }


def anonymous_checks(result: dict[str, Any]) -> dict[str, Any]:
    """Anonymous `/`: no cookie, no store access, no session stored."""
    memory = result["anonymous_memory"]
    traffic = result["store_traffic"]["anonymous"]
    store_access = None
    if traffic["store_reads_per_request"] is not None:
        store_access = bool(
            traffic["store_reads_per_request"] or traffic["store_writes_per_request"]
        )
    sets_cookie = memory["sets_cookie"] or bool(traffic["responses_setting_a_cookie"])
    sessions = memory["sessions_after"]
    return {
        "sets_cookie": sets_cookie,
        "store_access": store_access,
        "sessions_stored": sessions,
        "hold": not sets_cookie and store_access is not True and not sessions,
    }


# --- report ------------------------------------------------------------------------------


def ratio_cell(section: dict[str, Any]) -> str:
    cpu = section.get("cpu_ratio")
    cell = f"{section['requests_per_second']:.0f} ({section['ratio']:.2f}"
    cell += f"; CPU {cpu:.2f})" if cpu is not None else ")"
    if section["budget"] is None:
        return f"{cell} report only"
    if section["meets"]:
        return f"{cell} ≥ {section['budget']:.2f} ok"
    return f"{cell} MISS by {section['missed_by']:.2f} (budget {section['budget']:.2f})"


def traffic_cell(traffic: dict[str, Any]) -> str:
    reads, writes = traffic["store_reads_per_request"], traffic["store_writes_per_request"]
    cookies = traffic["responses_setting_a_cookie"] / traffic["requests"]
    store = "n/a (in-process)" if reads is None else f"{reads:.2f} r / {writes:.2f} w"
    return f"{store}; Set-Cookie on {cookies:.0%}"


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| case | bare `/` req/s | anonymous `/` req/s (ratio; CPU ratio) "
        "| signed-in `/` req/s (ratio; CPU ratio) "
        "| signed-in p50 / p99 ms | `/profile` req/s (ratio) | store per signed-in `/` "
        "| anonymous: Set-Cookie, store access, sessions stored, RSS Δ (checks) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        name = f"{result['framework']} {result['backend']}"
        if result.get("status") != "ok":
            error = (result.get("error") or "").strip().splitlines()
            reason = error[0][:120].replace("|", "/") if error else "?"
            rows.append(f"| {name} | failed: {reason} | | | | | | |")
            continue
        signed = result["signed_in"]
        checks = result["anonymous"]["checks"]
        memory = result["anonymous_memory"]
        sessions = "n/a" if checks["sessions_stored"] is None else checks["sessions_stored"]
        store_access = {None: "n/a", True: "YES", False: "none"}[checks["store_access"]]
        page = result.get("profile_page")
        page_cell = f"{page['requests_per_second']:.0f} ({page['ratio']:.2f})" if page else "–"
        rows.append(
            f"| {name} | {result['bare']['requests_per_second']:.0f} "
            f"| {ratio_cell(result['anonymous'])} | {ratio_cell(signed)} "
            f"| {signed['p50_ms']:.1f} / {signed['p99_ms']:.1f} | {page_cell} "
            f"| {traffic_cell(result['store_traffic']['signed_in'])} "
            f"| {'YES' if checks['sets_cookie'] else 'no'}, {store_access}, {sessions} "
            f"after {memory['requests']}, {memory['rss_kib_growth']:+d} KiB "
            f"({'ok' if checks['hold'] else 'FAIL'}) |"
        )
    return "\n".join(rows)


def details(results: list[dict[str, Any]]) -> str:
    """Provider and store traffic in full: what the ratios come from."""
    rows = [
        "| case | provider requests over the sign-ins (fresh process) "
        "| store commands over the counted signed-in `/` requests | provider per signed-in `/` |",
        "|---|---|---|---|",
    ]
    for result in results:
        if result.get("status") != "ok":
            continue
        sign_ins = result["provider_per_sign_in"]
        provider = ", ".join(f"{kind} {n}" for kind, n in sorted(sign_ins["requests"].items()))
        traffic = result["store_traffic"]["signed_in"]
        commands = traffic["store_commands"]
        if commands is None:
            store = "n/a (in-process)"
        else:
            store = ", ".join(f"{name} {n}" for name, n in sorted(commands.items()) if n)
        per_page = sum(traffic["provider_requests"].values()) / traffic["requests"]
        rows.append(
            f"| {result['framework']} {result['backend']} | {sign_ins['sign_ins']} sign-ins: "
            f"{provider} | {traffic['requests']} requests: {store} | {per_page:.2f} |"
        )
    rows += one_read_rows(results)
    bounded = [result for result in results if "memory_bound" in result]
    if bounded:
        rows += [
            "",
            "| case | sign-ins, store bound (`SESSION_MEMORY_MAX_ENTRIES`) | still signed in "
            "| newest kept, oldest evicted | worker RSS after 0 / ¼ / ½ / ¾ / all sign-ins |",
            "|---|---|---|---|---|",
        ]
    for result in bounded:
        check = result["memory_bound"]
        rss = " / ".join(f"{kib / 1024:.1f}" for kib in check["rss_kib_after_sign_ins"].values())
        rows.append(
            f"| {result['framework']} {result['backend']} | {check['sign_ins']}, "
            f"{check['bound']} | {check['still_signed_in']} "
            f"| {'yes' if check['newest_kept'] else 'NO'}, "
            f"{'yes' if check['oldest_evicted'] else 'NO'} ({'ok' if check['hold'] else 'FAIL'}) "
            f"| {rss} MiB |"
        )
    return "\n".join(rows)


def extra_time(ratio: float) -> float:
    """What a page of this ratio takes beyond the bare page, in bare pages' time."""
    return 1 / ratio - 1


def one_read_rows(results: list[dict[str, Any]]) -> list[str]:
    """The floor of each Redis case: what one GET costs the bare app, next to the budget."""
    floors = [result for result in results if "one_read" in result]
    if not floors:
        return []
    rows = [
        "",
        "| case | bare + one Redis GET (`/one-read`) req/s (ratio; CPU ratio) "
        "| time beyond the bare page, in bare pages: one GET / the signed-in page "
        "/ the budget allows |",
        "|---|---|---|",
    ]
    for result in floors:
        floor, signed = result["one_read"], result["signed_in"]
        cpu = floor.get("cpu_ratio")
        allowed = "–" if signed["budget"] is None else f"{extra_time(signed['budget']):.2f}"
        rows.append(
            f"| {result['framework']} {result['backend']} "
            f"| {floor['requests_per_second']:.0f} ({floor['ratio']:.2f}"
            f"{f'; CPU {cpu:.2f}' if cpu is not None else ''}), "
            f"{floor['record_bytes']} bytes read "
            f"| {extra_time(floor['ratio']):.2f} / {extra_time(signed['ratio']):.2f} "
            f"/ {allowed} |"
        )
    return rows


def update_readme(report: dict[str, Any]) -> None:
    text = README.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{README} has no {TABLE_START} … {TABLE_END} markers")
    settings = report["settings"]
    block = (
        f"{TABLE_START}\n"
        f"Run of {report['finished_at']}, template at {report['template']['head']} "
        f"({report['template']['source']}) ({report['mode']}: {settings['seconds']:g} s × "
        f"{settings['rounds']} interleaved rounds per target, wrk -t1 -c{CONNECTIONS}; "
        f"load average before the run {report['machine']['load_average_before']}). "
        f"{report['note']}\n\n{table(report['cases'])}\n\n{details(report['cases'])}\n{TABLE_END}"
    )
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    README.write_text(text[:start] + block + text[end:])


# --- main --------------------------------------------------------------------------------


def choices(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    picked = [item.strip() for item in text.split(",") if item.strip()]
    unknown = sorted(set(picked) - set(allowed))
    if unknown or not picked:
        raise argparse.ArgumentTypeError(f"{what}: pick from {', '.join(allowed)}")
    return picked


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a second of load per target")
    parser.add_argument("--frameworks", type=lambda t: choices(t, FRAMEWORKS, "--frameworks"))
    parser.add_argument("--backends", type=lambda t: choices(t, BACKENDS, "--backends"))
    parser.add_argument("--seconds", type=float, help="load per wrk run (overrides the mode)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (overrides the mode)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--profile", action="store_true", help="py-spy the signed-in page")
    parser.add_argument("--update-readme", action="store_true", help="put the table in README")
    parser.add_argument(
        "--commit", help="bake the template as of this commit (default: the working tree)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the projects and logs")
    parser.add_argument("--note", default="", help="said above the table (e.g. a busy machine)")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", f"redis://{HOST}:6379/0")
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = QUICK if args.quick else FULL
    if args.seconds or args.rounds:
        mode = Mode(
            seconds=args.seconds or mode.seconds,
            rounds=args.rounds or mode.rounds,
            sign_ins=mode.sign_ins,
            counted_requests=mode.counted_requests,
            anonymous_requests=mode.anonymous_requests,
            profile_page=mode.profile_page,
            bounded_sign_ins=mode.bounded_sign_ins,
            memory_bound=mode.memory_bound,
        )
    frameworks = args.frameworks or (["flask"] if args.quick else list(FRAMEWORKS))
    backends = args.backends or (["memory"] if args.quick else list(BACKENDS))
    for tool in ("wrk", "taskset", "uv"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (wrk: apt-get install wrk)")
    RESULTS.mkdir(exist_ok=True)
    # This driver (sign-ins, counted requests, probes) stays off the app's CPU, like wrk.
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "note": args.note,
        "settings": {
            "seconds": mode.seconds,
            "rounds": mode.rounds,
            "connections": CONNECTIONS,
            "app_cpu": APP_CPU,
            "load_cpu": LOAD_CPU,
            "sign_ins": mode.sign_ins,
            "counted_requests": mode.counted_requests,
            "anonymous_requests": mode.anonymous_requests,
            "bounded_sign_ins": mode.bounded_sign_ins,
            "memory_bound": mode.memory_bound,
        },
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_average()},
        "budgets": {
            "signed_in": {f"{f}-{b}": v for (f, b), v in SIGNED_IN_BUDGETS.items()},
            "anonymous": ANONYMOUS_BUDGETS,
        },
        "cases": [],
    }
    processes = Processes()
    try:
        with work_directory(args.keep) as workdir:
            template, report["template"] = template_at(args.commit, workdir)
            print(f"template: {report['template']}", flush=True)
            provider: Provider | None = None
            for framework in frameworks:
                cases = [Case(framework, backend) for backend in backends]
                bare: Server | None = None
                for case in cases:
                    case.result.update(framework=framework, backend=case.backend)
                    report["cases"].append(case.result)
                    print(f"== {case.name}", flush=True)
                    log = workdir / f"{case.name}-setup.log"
                    try:
                        project = bake(framework, case.backend, workdir / "projects", template)
                        uv_sync(project, log)
                        if provider is None:
                            provider = start_provider(processes, project, workdir)
                        if bare is None:
                            bare = start_bare(
                                processes, framework, project, workdir, args.redis_url
                            )
                            report.setdefault("bare_commands", {})[framework] = shlex.join(
                                bare.argv
                            )
                    except (BenchmarkError, OSError, subprocess.SubprocessError) as error:
                        case.result.update(status="failed", error=str(error)[-3000:])
                    except Exception as error:  # a bake that the template refuses
                        case.result.update(
                            status="failed", error=f"{type(error).__name__}: {error}"
                        )
                    else:
                        run_case(
                            case, mode=mode, processes=processes, provider=provider,
                            project=project, bare=bare, workdir=workdir,
                            redis_url=args.redis_url, profile=args.profile,
                        )  # fmt: skip
                    print_case(case.result)
                if bare is not None:
                    processes.stop(bare.process)
    finally:
        processes.stop_all()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["machine"]["load_average_after"] = load_average()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(report["cases"]))
    print()
    print(details(report["cases"]))
    print(f"\nJSON: {args.output}")
    if args.update_readme:
        update_readme(report)
        print(f"table written to {README}")
    return 0 if all(case.get("status") == "ok" for case in report["cases"]) else 1


def start_bare(
    processes: Processes, framework: str, project: Path, workdir: Path, redis_url: str
) -> Server:
    """The bare app of `framework`, in the project's env, under the project's server command
    (its `/one-read` reads from `redis_url`)."""
    argv = dockerfile_command(project)
    index = entry_point_index(argv)
    argv[index] = bare_entry_point(framework, argv[index])
    port = free_port()
    argv = bind_to(argv, port)
    argv[0] = str(project / ".venv" / "bin" / argv[0])
    config = project / "gunicorn.conf.py"
    if Path(argv[0]).name == "gunicorn" and config.is_file():
        # gunicorn reads ./gunicorn.conf.py: the bare app gets the app's (threads and all).
        argv[1:1] = ["--config", str(config)]
    env = plain_env(
        PYTHONPATH=str(BARE_APPS), BARE_REDIS_URL=redis_url, BARE_REDIS_KEY=ONE_READ_KEY
    )
    return start_server(
        processes, f"bare {framework}", argv, cwd=BARE_APPS, env=env, port=port,
        log=workdir / f"bare-{framework}.log", ready_path="/",
    )  # fmt: skip


@contextmanager
def work_directory(keep: bool) -> Iterator[Path]:
    """A temporary folder for the baked projects and the logs, removed unless `keep`."""
    workdir = Path(tempfile.mkdtemp(prefix="logto-bench-"))
    try:
        yield workdir
    finally:
        if keep:
            print(f"projects and logs kept in {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def print_case(result: dict[str, Any]) -> None:
    if result.get("status") != "ok":
        print(f"   failed: {result.get('error', '')[-1500:]}", flush=True)
        return
    if "store_cpu" in result:
        print(f"   store      {result['store_cpu']}", flush=True)
    for target in ("bare", "anonymous", "signed_in", "one_read"):
        if (section := result.get(target)) is None:
            continue
        ratio = f" ratio {section['ratio']:.2f}" if "ratio" in section else ""
        print(
            f"   {target:<10} {section['requests_per_second']:>8.0f} req/s{ratio}"
            f"  p50 {section['p50_ms']:.1f} ms  p99 {section['p99_ms']:.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
