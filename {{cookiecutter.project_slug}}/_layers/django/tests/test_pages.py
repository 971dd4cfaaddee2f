import subprocess
import sys

from django.test import Client

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
