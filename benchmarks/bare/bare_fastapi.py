"""The floor for FastAPI: one route, no middleware (served as `bare_fastapi:app`).

`/one-read` is the same page after one Redis GET of `BARE_REDIS_KEY` (through redis-py's
asyncio client, as the Redis project's sessions read): the floor for any page whose session
lives in Redis.
"""

import functools
import os

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

PAGE = "<!doctype html><title>Hello</title><p>Hello Logto!</p>"

app = FastAPI(openapi_url=None)


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE


@functools.cache
def redis_client():  # type: ignore[no-untyped-def]  # redis is only there in a Redis project
    from redis.asyncio import Redis

    return Redis.from_url(os.environ["BARE_REDIS_URL"])


@app.get("/one-read", response_class=HTMLResponse)
async def one_read() -> str:
    await redis_client().get(os.environ["BARE_REDIS_KEY"])
    return PAGE
