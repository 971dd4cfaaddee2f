"""Logto's Storage adapter on the app's real session, persisted by the store between requests."""

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.session_storage import SessionStorage


@pytest.fixture
def storage_client(app: FastAPI, client: TestClient) -> TestClient:
    """The app with routes that drive a SessionStorage, one operation per request."""

    @app.get("/storage/{key}")
    async def get(key: str, request: Request) -> dict[str, Any]:
        return {"value": SessionStorage(request.session).get(key)}  # type: ignore[arg-type]

    @app.put("/storage/{key}")
    async def set_(key: str, request: Request, value: str | None = None) -> None:
        SessionStorage(request.session).set(key, value)  # type: ignore[arg-type]

    @app.delete("/storage/{key}")
    async def delete(key: str, request: Request) -> None:
        SessionStorage(request.session).delete(key)  # type: ignore[arg-type]

    @app.put("/own/{key}")
    async def set_own(key: str, value: str, request: Request) -> None:
        request.session[key] = value

    @app.get("/own/{key}")
    async def get_own(key: str, request: Request) -> dict[str, Any]:
        return {"value": request.session.get(key)}

    @app.post("/own/{key}/items")
    async def append_own(key: str, item: str, request: Request) -> None:
        request.session.setdefault(key, []).append(item)  # changed in place

    return client


def stored(client: TestClient, key: str) -> object:
    return client.get(f"/storage/{key}").json()["value"]


def test_unknown_key_is_none(storage_client: TestClient) -> None:
    assert stored(storage_client, "idToken") is None


def test_set_then_get_round_trips(storage_client: TestClient) -> None:
    storage_client.put("/storage/idToken", params={"value": "a.b.c"})
    assert stored(storage_client, "idToken") == "a.b.c"


def test_set_none_and_delete_remove(storage_client: TestClient) -> None:
    storage_client.put("/storage/idToken", params={"value": "a.b.c"})
    storage_client.put("/storage/refreshToken", params={"value": "r"})
    storage_client.put("/storage/idToken")
    storage_client.delete("/storage/refreshToken")
    assert stored(storage_client, "idToken") is None
    assert stored(storage_client, "refreshToken") is None


def test_keys_do_not_collide_with_the_apps_own(storage_client: TestClient) -> None:
    storage_client.put("/own/idToken", params={"value": "the app's"})
    storage_client.put("/storage/idToken", params={"value": "Logto's"})
    assert storage_client.get("/own/idToken").json()["value"] == "the app's"
    storage_client.delete("/storage/idToken")
    assert storage_client.get("/own/idToken").json()["value"] == "the app's"


def test_a_value_changed_in_place_is_saved(storage_client: TestClient) -> None:
    for item in ("first", "second"):
        storage_client.post("/own/list/items", params={"item": item})
    assert storage_client.get("/own/list").json()["value"] == ["first", "second"]
