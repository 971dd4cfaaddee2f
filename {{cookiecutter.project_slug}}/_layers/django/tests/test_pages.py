import subprocess
import sys
from typing import Any

import pytest
from django.test import Client

from .conftest import CSRF_FIELD, sign_in
from .oidc_provider import OidcProvider
from .servers import PROJECT_DIR
from .store import stored_session_count


def test_home_says_hello_and_stores_no_session(client: Client) -> None:
    sessions_before = stored_session_count()
    response = client.get("/")
    assert response.status_code == 200
    assert "Hello Logto!" in response.content.decode()
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    assert stored_session_count() == sessions_before


def test_anonymous_visitors_and_the_signed_in_get_pages_of_their_own(
    client: Client, logto: OidcProvider
) -> None:
    assert "You are not signed in." in Client().get("/").content.decode()
    sign_in(client, logto, name="Alice")
    page = client.get("/")
    assert "You are signed in as <strong>Alice</strong>" in page.content.decode()
    assert page["Vary"] == "Cookie"
    anonymous = Client().get("/")
    assert "You are not signed in." in anonymous.content.decode()
    assert anonymous["Vary"] == "Cookie"  # a cache must not serve one page for the other


def test_each_session_sees_its_own_home_page(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto, sub="alice", name="Alice")
    other = Client(enforce_csrf_checks=True)
    sign_in(other, logto, sub="bob", name="Bob")
    for _ in range(2):
        alices, bobs = client.get("/").content.decode(), other.get("/").content.decode()
        assert "<strong>Alice</strong>" in alices and "<strong>Bob</strong>" in bobs
        alices_token, bobs_token = CSRF_FIELD.search(alices), CSRF_FIELD.search(bobs)
        assert alices_token and bobs_token and alices_token[1] != bobs_token[1]


def test_the_home_page_is_rendered_for_each_request(client: Client, settings: Any) -> None:
    client.get("/")
    # A project's own index.html, in place of the app's, that shows the request.
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [PROJECT_DIR / "tests" / "templates"]}]
    assert client.get("/?who=ann").content.decode().strip() == "/?ann"
    assert client.get("/?who=bob").content.decode().strip() == "/?bob"


def test_profile_sends_anonymous_visitors_to_sign_in(client: Client, logto: OidcProvider) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in"


NOT_SET_UP = {
    "endpoint": ({"LOGTO_ENDPOINT": ""}, "LOGTO_ENDPOINT"),
    "app secret": ({"LOGTO_APP_SECRET": ""}, "LOGTO_APP_SECRET"),
    "all": (
        {"LOGTO_ENDPOINT": "", "LOGTO_APP_ID": "", "LOGTO_APP_SECRET": ""},
        "LOGTO_ENDPOINT, LOGTO_APP_ID, LOGTO_APP_SECRET",
    ),
}


@pytest.mark.parametrize("page", ["/sign-in", "/callback?code=x&state=y", "/profile"])
@pytest.mark.parametrize(("missing", "names"), NOT_SET_UP.values(), ids=NOT_SET_UP.keys())
def test_pages_that_need_logto_say_what_to_set(
    client: Client, logto: OidcProvider, settings: Any, page: str, missing: dict, names: str
) -> None:
    for name, value in missing.items():
        setattr(settings, name, value)
    response = client.get(page)
    assert response.status_code == 503
    text = response.content.decode()
    assert "<title>Sign-in is not set up</title>" in text
    assert f"Sign-in is not set up yet: set {names} in .env (see README.md)." in text


def test_unknown_page_is_a_page_not_a_trace(client: Client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "There is no page at this address." in response.content.decode()


def test_healthz_reports_the_store(client: Client, settings: Any) -> None:
    kind = settings.SESSION_STORE["KIND"]
    assert kind in {"memory", "Redis", "MongoDB", "SQL database"}  # as every framework says
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "session_store": f"{kind}: ok"}
    assert not response.cookies


def test_manage_py_check_is_clean() -> None:
    command = [sys.executable, "manage.py", "check", "--fail-level", "WARNING"]
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
