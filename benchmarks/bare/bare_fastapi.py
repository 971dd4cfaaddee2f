"""The floor for FastAPI: one route, no middleware (served as `bare_fastapi:app`)."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI(openapi_url=None)


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return "<!doctype html><title>Hello</title><p>Hello Logto!</p>"
