"""The database session store, as the tests see it: a throwaway database of this run.

Django's test runner makes the test database (migrated) and drops it at the end: a file of
its own on SQLite, a database of its own (CREATE DATABASE) on the server DATABASE_URL names.
"""

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases
from django.utils import timezone

from .servers import free_port
from .traffic import Traffic

SLUG = "{{ cookiecutter.project_slug }}"
RUN = uuid.uuid4().hex[:12]


def is_sqlite() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


@pytest.fixture(scope="session", autouse=True)
def session_store(request: pytest.FixtureRequest) -> Iterator[None]:
    """This run's own test database; every test may use it as the app does (no transaction
    around each test, so app threads and processes see the same rows)."""
    # Named after this run, so that parallel runs never share a table.
    if is_sqlite():
        name = str(Path(tempfile.gettempdir()) / f"{SLUG}-test-{RUN}.sqlite3")
    else:
        name = f"test_{SLUG}_{RUN}"
    settings.DATABASES["default"]["TEST"]["NAME"] = name
    with request.getfixturevalue("django_db_blocker").unblock():
        databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        yield
        teardown_databases(databases, verbosity=0)


def stored_session_count() -> int:
    return Session.objects.count()


def database_url() -> str:
    """DATABASE_URL of the test database, for app processes of the tests."""
    database = settings.DATABASES["default"]
    if is_sqlite():
        return f"sqlite:///{database['NAME']}"
    user = quote(database["USER"], safe="")
    password = f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
    address = f"{database['HOST']}:{database['PORT'] or 5432}"
    return f"postgresql://{user}{password}@{address}/{database['NAME']}"


def app_env() -> dict[str, str]:
    """The environment that points an app process at this run's sessions."""
    return {"DATABASE_URL": database_url()}


@contextmanager
def store_traffic() -> Iterator[Traffic]:
    """Count the SQL statements the app sends to the database meanwhile."""
    traffic = Traffic()
    with CaptureQueriesContext(connection) as captured:
        yield traffic
    for query in captured.captured_queries:
        sql = query["sql"].upper()
        if sql.startswith("SELECT"):
            traffic.reads += 1
        elif sql.startswith("UPDATE") and "SESSION_DATA" not in sql:
            traffic.touches += 1
        elif sql.startswith(("INSERT", "UPDATE", "DELETE")):
            traffic.writes += 1


def store_unreadable_session(session_key: str) -> None:
    """Store a row whose data are no session under `session_key`, for an hour."""
    expire_date = timezone.now() + timedelta(hours=1)
    Session.objects.create(session_key=session_key, session_data="garbage", expire_date=expire_date)


@contextmanager
def store_down() -> Iterator[None]:
    """The app's database is out of reach until the block ends (its data are kept)."""
    saved = dict(connection.settings_dict)
    connection.close()
    if is_sqlite():
        missing = Path(tempfile.gettempdir()) / f"{SLUG}-{RUN}-no-such-folder"
        connection.settings_dict["NAME"] = str(missing / "sessions.sqlite3")
    else:
        port = str(free_port())
        connection.settings_dict.update(HOST="127.0.0.1", PORT=port, PASSWORD="hunter2")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)
