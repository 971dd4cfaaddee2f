"""The home page, health, and what the app says when Logto is not set up or not there."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, template_rendered
from flask.testing import FlaskClient
from jinja2 import Template

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


def test_the_anonymous_home_page_is_rendered_once(app: Flask, client: FlaskClient) -> None:
    with rendered_templates(app) as rendered:
        first, second = client.get("/"), app.test_client().get("/")
    assert rendered == ["index.html"]
    assert first.text == second.text
    assert "You are not signed in." in second.text
    assert second.headers["Vary"] == "Cookie"  # the page differs for a signed-in visitor


def test_the_anonymous_page_shows_template_edits_while_templates_reload(
    settings: Settings,
) -> None:
    app = make_app(settings)
    app.config["TEMPLATES_AUTO_RELOAD"] = True  # as in debug mode
    with rendered_templates(app) as rendered:
        client = app.test_client()
        client.get("/")
        client.get("/")
    assert rendered == ["index.html", "index.html"]


def test_a_signed_in_visitor_never_gets_the_anonymous_page(
    app: Flask, client: FlaskClient, provider: OidcProvider
) -> None:
    assert "You are not signed in." in client.get("/").text  # the anonymous page is kept
    sign_in(client, provider, sub="alice", name="Alice")
    with rendered_templates(app) as rendered:
        home = client.get("/")
    assert rendered == ["index.html"]
    assert "signed in as <strong>Alice</strong>" in home.text
    assert "Sign out" in home.text
    assert "You are not signed in." in app.test_client().get("/").text


def test_each_session_has_its_own_home_page_rendered_once(
    app: Flask, provider: OidcProvider
) -> None:
    alice, bob = app.test_client(), app.test_client()
    sign_in(alice, provider, sub="alice", name="Alice")
    sign_in(bob, provider, sub="bob", name="Bob")
    with rendered_templates(app) as rendered:
        alice_pages = [alice.get("/").text for _ in range(3)]
        bob_page = bob.get("/").text
    assert rendered == ["index.html", "index.html"]  # once per session
    assert alice_pages == [alice_pages[0]] * 3
    assert "<strong>Alice</strong>" in alice_pages[0]
    assert "<strong>Bob</strong>" in bob_page
    assert csrf_token_of(alice.get("/")) != csrf_token_of(bob.get("/"))


def test_health_reports_the_store(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["status"] == "ok"
    assert response.json["session_store"].endswith(": ok")


def test_sign_in_without_logto_settings_names_what_is_missing(settings: Settings) -> None:
    client = make_app(settings, logto_app_id="", logto_app_secret="").test_client()
    response = client.get("/sign-in")
    assert response.status_code == 503
    assert "LOGTO_APP_ID, LOGTO_APP_SECRET" in response.text
    assert "LOGTO_ENDPOINT" not in response.text
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
