import subprocess
import sys
from pathlib import Path

from django.test import Client
from django.utils.autoreload import file_changed

from {{ cookiecutter.project_slug }}.views import home_page

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


def test_the_home_page_kept_for_anonymous_visitors_still_greets_the_signed_in(
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


def test_the_kept_home_pages_follow_a_template_edit_under_runserver() -> None:
    home_page()
    assert home_page.cache_info().currsize >= 1
    # What runserver's autoreloader sends when a template changes (it does not restart).
    file_changed.send(sender=None, file_path=Path("templates/index.html"))
    assert home_page.cache_info().currsize == 0


def test_profile_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in"


def test_unknown_page_is_a_page_not_a_trace(client: Client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "There is no page at this address." in response.content.decode()


def test_healthz_reports_the_store(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["session_store"].endswith(": ok")
    assert not response.cookies


def test_manage_py_check_is_clean() -> None:
    command = [sys.executable, "manage.py", "check", "--fail-level", "WARNING"]
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
