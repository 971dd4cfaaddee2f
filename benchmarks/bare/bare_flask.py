"""The floor for Flask: one route, no session, no extension (served as `bare_flask:app`).

`/one-read` is the same page after one Redis GET of `BARE_REDIS_KEY` (through redis-py, one
connection, as the Redis project's sessions read): the floor for any page whose session
lives in Redis.
"""

import functools
import os

from flask import Flask

PAGE = "<!doctype html><title>Hello</title><p>Hello Logto!</p>"

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return PAGE


@functools.cache
def redis_client():  # type: ignore[no-untyped-def]  # redis is only there in a Redis project
    import redis

    return redis.Redis.from_url(os.environ["BARE_REDIS_URL"], single_connection_client=True)


@app.get("/one-read")
def one_read() -> str:
    redis_client().get(os.environ["BARE_REDIS_KEY"])
    return PAGE
