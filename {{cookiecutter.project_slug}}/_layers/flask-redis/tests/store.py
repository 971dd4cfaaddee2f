"""The Redis the tests use: REDIS_URL (default the local one), with a key prefix of this run."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from flask import Flask

from .servers import StoreProcess
from .traffic import Traffic

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def running_store() -> Iterator[dict[str, object]]:
    """Settings for a key prefix no other run uses; its keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex}:session:"
    try:
        yield {"redis_url": REDIS_URL, "session_key_prefix": prefix}
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)


def stored_session_ids(app: Flask) -> set[str]:
    """The session ids the app's store holds, without the key prefix."""
    interface = app.session_interface
    prefix: str = interface.key_prefix  # type: ignore[attr-defined]
    client: redis.Redis = interface.client  # type: ignore[attr-defined]
    ids = {key.decode().removeprefix(prefix) for key in client.scan_iter(match=f"{prefix}*")}
    # Session ids have no colon; the index keys and logout token ids have one.
    return {sid for sid in ids if ":" not in sid}


def stored_expiry(app: Flask, sid: str) -> float:
    """When Redis lets the session `sid` expire (Unix time)."""
    interface = app.session_interface
    client: redis.Redis = interface.client  # type: ignore[attr-defined]
    store_id = interface.key_prefix + sid  # type: ignore[attr-defined]
    return int(client.pexpiretime(store_id)) / 1000  # type: ignore[arg-type]


def store_raw(app: Flask, sid: str, data: bytes) -> None:
    """Make the stored session `sid` hold `data` after its expiry header, as it is."""
    interface = app.session_interface
    client: redis.Redis = interface.client  # type: ignore[attr-defined]
    client.setrange(interface.key_prefix + sid, 8, data)  # type: ignore[attr-defined]


def own_store(port: int, data_dir: Path) -> tuple[StoreProcess, dict[str, object]]:
    """A Redis server on `port` whose data survives a restart; and settings that use it."""
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "yes", "--dir", str(data_dir)]
    return StoreProcess(command, port), {"redis_url": f"redis://127.0.0.1:{port}/0"}


def unreachable_store(port: int) -> dict[str, object]:
    return {"redis_url": f"redis://127.0.0.1:{port}/0"}


READS = {"get", "mget", "hget", "hgetall", "hkeys", "exists", "ttl"}


class CountingClient:
    """A Redis client (or pipeline) that notes each command, then sends it on."""

    def __init__(self, client: Any, traffic: Traffic) -> None:
        self.client = client
        self.traffic = traffic

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if name == "pipeline":
            return lambda *args, **kwargs: CountingClient(attribute(*args, **kwargs), self.traffic)
        if name in {"execute", "ping"} or not callable(attribute):
            return attribute

        def command(*args: Any, **kwargs: Any) -> Any:
            fields = kwargs.get("mapping") or (args[1:2] if name == "hset" else ())
            described = " ".join([name.upper(), *map(str, fields)])
            (self.traffic.reads if name in READS else self.traffic.writes).append(described)
            return attribute(*args, **kwargs)

        return command

    def __enter__(self) -> "CountingClient":
        self.client.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.__exit__(*exc_info)


@contextmanager
def store_traffic(app: Flask) -> Iterator[Traffic]:
    """The Redis commands `app` sends meanwhile."""
    interface = app.session_interface
    client = interface.client  # type: ignore[attr-defined]
    traffic = Traffic()
    interface.client = CountingClient(client, traffic)  # type: ignore[attr-defined]
    try:
        yield traffic
    finally:
        interface.client = client  # type: ignore[attr-defined]


def is_expiry_update(write: str) -> bool:
    """PEXPIREAT, or SETRANGE of the value's expiry header alone."""
    return write in {"PEXPIREAT", "SETRANGE"}
