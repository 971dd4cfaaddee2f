"""The floor for Flask: one route, no session, no extension (served as `bare_flask:app`).

`/one-read` is the same page after one read of a copy of a signed-in session's record, through
the driver that the project's sessions use (BARE_STORE: one Redis GET through redis-py, one
find through pymongo, one SELECT through SQLAlchemy): the floor for any page whose session
lives in that store.
"""

import functools
import os
from collections.abc import Callable

from flask import Flask

PAGE = "<!doctype html><title>Hello</title><p>Hello Logto!</p>"

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return PAGE


@functools.cache
def read_record() -> Callable[[], object]:
    """One read of the record at BARE_RECORD_KEY, through the driver of the project's
    sessions, connected as they connect (imported here: each project has only its own)."""
    store, url, key = (os.environ[f"BARE_{name}"] for name in ("STORE", "STORE_URL", "RECORD_KEY"))
    if store == "redis":
        import redis

        client = redis.Redis.from_url(url, single_connection_client=True)
        return functools.partial(client.get, key)
    table = os.environ["BARE_RECORD_TABLE"]
    if store == "mongodb":
        import pymongo

        collection = pymongo.MongoClient(url, tz_aware=True).get_default_database()[table]
        return functools.partial(collection.find_one, {"_id": key})
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    select = sa.text(f'SELECT * FROM "{table}" WHERE "{os.environ["BARE_RECORD_COLUMN"]}" = :key')

    def select_row() -> object:
        with engine.connect() as connection:
            return connection.execute(select, {"key": key}).first()

    return select_row


@app.get("/one-read")
def one_read() -> str:
    read_record()()
    return PAGE
