"""Sessions in the SQL database: one row each, expired rows read as missing and go, an
outage is a 503 and survivable."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from config import sessions

from .conftest import session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .recovery import assert_no_503_after_restart
from .servers import PROJECT_DIR
from .store import app_env, is_sqlite, store_down


def test_a_session_is_one_row_with_its_expiry_date(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto)
    row = Session.objects.get(session_key=session_key(client))
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert timezone.now() < row.expire_date <= timezone.now() + lifetime
    assert "idToken" not in row.session_data  # signed and encoded, as Django stores it


def test_an_expired_row_counts_as_missing_and_is_cleared(
    client: Client, logto: OidcProvider
) -> None:
    sign_in(client, logto)
    key = session_key(client) or ""
    past = timezone.now() - timedelta(seconds=1)
    Session.objects.filter(session_key=key).update(expire_date=past)
    assert stored_session(key) is None
    assert client.get("/profile")["Location"] == "/sign-in"
    call_command("clearsessions")
    assert not Session.objects.filter(session_key=key).exists()


def test_database_down_is_503_naming_only_the_store(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto)
    with store_down():
        pages = (client.get("/"), client.get("/profile"), Client().get("/sign-in"))
        for response in pages:
            assert response.status_code == 503
            assert settings.SESSION_COOKIE_NAME not in response.cookies  # the cookie stays
            page = response.content.decode()
            assert "(SQL database)" in page
            assert "hunter2" not in page
            assert "127.0.0.1" not in page
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["session_store"] == "SQL database: down"
        assert Client().get("/").status_code == 200  # anonymous pages need no session
    assert client.get("/healthz").status_code == 200
    assert client.get("/profile").status_code == 200  # back: same session, still signed in


@pytest.mark.skipif(not is_sqlite(), reason="an empty SQLite file stands for a new database")
def test_a_database_without_the_table_is_503_and_says_why_in_the_log(
    client: Client, logto: OidcProvider, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in(client, logto)
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["NAME"] = str(tmp_path / "not-migrated.sqlite3")
    try:
        assert client.get("/profile").status_code == 503
        assert client.get("/healthz").status_code == 503
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert "django_session" in caplog.text  # `manage.py migrate` has not made it


def drop_the_apps_connections() -> None:
    """What a restart of PostgreSQL does to the app's connections, the database staying up."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.mark.skipif(is_sqlite(), reason="SQLite has no connection to drop")
def test_no_503_in_any_thread_once_connections_dropped(logto: OidcProvider) -> None:
    assert_no_503_after_restart(logto, app_env(), drop_the_apps_connections)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite:///instance/sessions.sqlite3", str(PROJECT_DIR / "instance/sessions.sqlite3")),
        ("sqlite:////tmp/sessions.sqlite3", "/tmp/sessions.sqlite3"),
        ("postgresql://app:p%40ss@db.internal:5433/sessions", "sessions"),
    ],
)
def test_database_url_is_read_like_everywhere_else(url: str, name: str) -> None:
    database = sessions.database(url)
    assert database["NAME"] == name
    if url.startswith("postgresql"):
        assert (database["USER"], database["PASSWORD"]) == ("app", "p@ss")
        assert (database["HOST"], database["PORT"]) == ("db.internal", "5433")


def test_an_unknown_database_url_is_refused_without_showing_it() -> None:
    with pytest.raises(Exception, match="mysql://") as refusal:
        sessions.database("mysql://root:hunter2@127.0.0.1/app")
    assert "hunter2" not in str(refusal.value)
