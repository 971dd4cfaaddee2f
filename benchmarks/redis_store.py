"""The Redis cases' store: the machine's Redis under a key prefix of the run's own, spoken to
in plain RESP (this repo's env has no Redis client), with its commands counted through
MONITOR and its server pinned beside the app for the case."""

from __future__ import annotations

import os
import re
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from config import APP_CPU, HOST, ONE_READ_KEY, BenchmarkError, RecordCopy

REDIS_READS = {"GET", "MGET", "HGET", "HMGET", "HGETALL", "EXISTS", "TTL", "PTTL", "STRLEN", "TYPE"}
REDIS_WRITES = {
    *("SET", "SETEX", "PSETEX", "SETNX", "MSET", "HSET", "HMSET", "GETEX", "GETDEL"),
    *("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "DEL", "UNLINK", "INCR"),
}


class RedisError(Exception):
    """An error reply from Redis, or a connection it closed."""


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

    @contextmanager
    def connected(self) -> Iterator[RedisConnection]:
        """A connection of its own, closed after the block."""
        connection = self.connect()
        try:
            yield connection
        finally:
            connection.close()

    def command(self, *args: str) -> Any:
        """One command on a connection of its own."""
        with self.connected() as connection:
            return connection.command(*args)

    def keys(self) -> list[str]:
        with self.connected() as connection:
            cursor, found = "0", []
            while True:
                cursor, batch = connection.command(
                    "SCAN", cursor, "MATCH", f"*{self.prefix}*", "COUNT", "1000"
                )
                found.extend(batch)
                if cursor == "0":
                    return found

    def session_count(self) -> int:
        return len(self.keys())

    def copy_signed_in_record(self) -> RecordCopy:
        """Copy the largest string under this run's prefix (a signed-in session's record)
        to ONE_READ_KEY, outside the prefix."""
        with self.connected() as connection:
            sizes = {
                key: connection.command("STRLEN", key)
                for key in self.keys()
                if connection.command("TYPE", key) == "string"
            }
            if not sizes:
                raise BenchmarkError("Redis holds no session record to copy")
            largest = max(sizes, key=sizes.__getitem__)
            connection.command("COPY", largest, ONE_READ_KEY, "REPLACE")
        env = {"BARE_STORE": "redis", "BARE_STORE_URL": self.url, "BARE_RECORD_KEY": ONE_READ_KEY}
        return RecordCopy(env, sizes[largest], "one Redis GET")

    def clean(self) -> None:
        """Delete this run's keys and the floor's copy."""
        keys = [*self.keys(), ONE_READ_KEY]
        with self.connected() as connection:
            for start in range(0, len(keys), 500):
                connection.command("DEL", *keys[start : start + 500])

    def server_pid(self) -> int | None:
        """The Redis server's process id, when it runs on this machine."""
        if self.host not in (HOST, "localhost"):
            return None
        text = self.command("INFO", "server")
        match = re.search(r"^process_id:(\d+)", text, re.MULTILINE)
        return int(match[1]) if match else None

    def commandstats(self) -> Counter[str]:
        text = self.command("INFO", "commandstats")
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
            self.command("ECHO", marker)
            done.wait(10)
            monitor.close()
            watcher.join(5)
        result.update(tally(seen))
        result["server_wide_delta"] = dict((after - before) - Counter({"INFO": 1, "SELECT": 1}))
        result["method"] = (
            "MONITOR, counting every command of the connections that touched this run's keys"
        )


def tally(seen: list[tuple[str, str, bool]]) -> dict[str, Any]:
    """The commands of the connections that touched this run's keys, from MONITOR's
    (client, command, on this run's keys?) lines; reads and writes among them."""
    app_clients = {client for client, _, on_our_keys in seen if on_our_keys}
    commands = Counter(command for client, command, _ in seen if client in app_clients)
    return {
        "commands": dict(commands),
        "reads": sum(n for command, n in commands.items() if command in REDIS_READS),
        "writes": sum(n for command, n in commands.items() if command in REDIS_WRITES),
    }


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
