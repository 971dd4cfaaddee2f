"""The home page, health, and what the app says when Logto is not set up or not there."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask, g, template_rendered
from flask.testing import FlaskClient
from jinja2 import Template

from {{ cookiecutter.project_slug }}.auth import login_required
from {{ cookiecutter.project_slug }}.sessions import STORE_KIND
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import csrf_token_of, make_app, sign_in
from .oidc_provider import OidcProvider
from .servers import free_port
from .store import stored_session_ids


def test_home_page_says_hello_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Hello Logto!" in response.text
    assert "Set-Cookie" not in response.headers
    assert stored_session_ids(app) == set()


@contextmanager
def rendered_templates(app: Flask) -> Iterator[list[str]]:
    """The names of the templates `app` renders meanwhile."""
    names: list[str] = []

    def note(sender: Flask, template: Template, **extra: object) -> None:
        names.append(str(template.name))

    with template_rendered.connected_to(note, app):
        yield names


def test_the_home_page_is_rendered_for_each_request(app: Flask, client: FlaskClient) -> None:
    # Nothing of one visitor's page may be kept for another's (flashed messages, say).
    with rendered_templates(app) as rendered:
        client.get("/")
        second = app.test_client().get("/")
    assert rendered == ["index.html", "index.html"]
    assert "You are not signed in." in second.text
    assert second.headers["Vary"] == "Cookie"  # the page differs for a signed-in visitor


def test_templates_reload_in_debug_mode(settings: Settings) -> None:
    app = make_app(settings)
    app.debug = True
    assert app.jinja_env.auto_reload


def test_a_signed_in_visitor_gets_a_page_of_their_own(app: Flask, provider: OidcProvider) -> None:
    alice, bob = app.test_client(), app.test_client()
    sign_in(alice, provider, sub="alice", name="Alice")
    sign_in(bob, provider, sub="bob", name="Bob")
    alice_page, bob_page = alice.get("/").text, bob.get("/").text
    assert "signed in as <strong>Alice</strong>" in alice_page
    assert "<strong>Bob</strong>" in bob_page
    assert 'action="/sign-out"' in alice_page
    assert csrf_token_of(alice.get("/")) != csrf_token_of(bob.get("/"))
    assert "You are not signed in." in app.test_client().get("/").text


def test_a_view_for_signed_in_users_only(settings: Settings, provider: OidcProvider) -> None:
    app = make_app(settings)

    @app.get("/settings")
    @login_required
    def account_settings() -> str:
        return f"settings of {g.user['sub']}"

    client = app.test_client()
    anonymous = client.get("/settings")
    assert anonymous.status_code == 302
    assert anonymous.location == "/sign-in?next=/settings"
    sign_in(client, provider, sub="alice")
    assert client.get("/settings").text == "settings of alice"


def test_an_anonymous_profile_visit_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.location == "/sign-in?next=/profile"


def test_health_reports_the_store(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["status"] == "ok"
    assert response.json["session_store"] == f"{STORE_KIND}: ok"
    assert STORE_KIND in {"memory", "Redis", "MongoDB", "SQL database"}


@pytest.mark.parametrize("path", ["/sign-in", "/callback", "/profile"])
def test_sign_in_without_logto_settings_names_what_is_missing(
    settings: Settings, path: str
) -> None:
    client = make_app(settings, logto_app_id="", logto_app_secret="").test_client()
    response = client.get(path)
    assert response.status_code == 503
    assert "<title>Sign-in is not set up</title>" in response.text
    assert (
        "Sign-in is not set up yet: set LOGTO_APP_ID, LOGTO_APP_SECRET in .env (see README.md)."
        in response.text
    )
    assert client.get("/").status_code == 200


def test_sign_in_with_logto_unreachable_is_a_502_page(settings: Settings) -> None:
    app = make_app(settings, logto_endpoint=f"http://127.0.0.1:{free_port()}")
    response = app.test_client().get("/sign-in")
    assert response.status_code == 502
    assert "Logto is unreachable" in response.text
    assert "Traceback" not in response.text
    assert stored_session_ids(app) == set()


def test_unknown_page_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "Back to the home page" in response.text
