"""The floor for FastAPI: one route, no middleware (served as `bare_fastapi:app`).

`/one-read` is the same page after one read of a copy of a signed-in session's record, through
the async driver that the project's sessions use (BARE_STORE: one Redis GET through redis-py's
asyncio client, one find through pymongo's AsyncMongoClient, one SELECT through SQLAlchemy on
aiosqlite): the floor for any page whose session lives in that store.
"""

import functools
import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

PAGE = "<!doctype html><title>Hello</title><p>Hello Logto!</p>"

app = FastAPI(openapi_url=None)


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE


@functools.cache
def read_record() -> Callable[[], Awaitable[object]]:
    """One read of the record at BARE_RECORD_KEY, through the async driver of the project's
    sessions (imported here: each project has only its own)."""
    store, url, key = (os.environ[f"BARE_{name}"] for name in ("STORE", "STORE_URL", "RECORD_KEY"))
    if store == "redis":
        from redis.asyncio import Redis

        return functools.partial(Redis.from_url(url).get, key)
    table = os.environ["BARE_RECORD_TABLE"]
    if store == "mongodb":
        from pymongo import AsyncMongoClient

        collection = AsyncMongoClient(url, tz_aware=True).get_default_database()[table]
        return functools.partial(collection.find_one, {"_id": key})
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url.replace("sqlite://", "sqlite+aiosqlite://", 1))
    select = sa.text(f'SELECT * FROM "{table}" WHERE "{os.environ["BARE_RECORD_COLUMN"]}" = :key')

    async def select_row() -> object:
        async with engine.connect() as connection:
            return (await connection.execute(select, {"key": key})).first()

    return select_row


@app.get("/one-read", response_class=HTMLResponse)
async def one_read() -> str:
    await read_record()()
    return PAGE
