"""The floor for Flask: one route, no session, no extension (served as `bare_flask:app`)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "<!doctype html><title>Hello</title><p>Hello Logto!</p>"
