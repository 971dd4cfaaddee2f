"""Sessions in a SQL database: one row per session, expired rows read as missing and deleted."""

import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.project_slug }}.sessions import sessions_table
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, session_id
from .store import stored_session_ids


def store_a_session(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        session["visited"] = True
    sid = session_id(client)
    assert sid is not None
    return sid


def engine_of(app: Flask) -> sa.Engine:
    return app.session_interface.engine  # type: ignore[attr-defined]


def expire(app: Flask, sid: str) -> None:
    """Move a session's expiry into the past, as time would."""
    store_id = app.session_interface.key_prefix + sid  # type: ignore[attr-defined]
    update = (
        sa.update(sessions_table)
        .where(sessions_table.c.id == store_id)
        .values(expires_at=time.time() - 1)
    )
    with engine_of(app).connect() as connection:
        connection.execute(update)


def test_session_row_has_the_prefixed_id_and_an_indexed_expiry(app: Flask, settings: Settings):
    sid = store_a_session(app.test_client())
    query = sa.select(sessions_table.c.expires_at).where(
        sessions_table.c.id == f"{settings.session_key_prefix}{sid}"
    )
    with engine_of(app).connect() as connection:
        expires_at = connection.scalar(query)
        indexes = sa.inspect(connection).get_indexes(sessions_table.name)
    assert expires_at is not None
    assert 0 < expires_at - time.time() <= settings.session_lifetime
    indexed = sorted(column for index in indexes for column in index["column_names"])
    assert indexed == ["expires_at", "provider_session", "subject"]


def test_expired_session_reads_as_missing(app: Flask) -> None:
    client = app.test_client()
    sid = store_a_session(client)
    expire(app, sid)
    with client.session_transaction() as session:
        assert "visited" not in session
    assert sid in stored_session_ids(app)  # still there until a cleanup


def test_cleanup_command_deletes_expired_sessions_only(app: Flask) -> None:
    expired, alive = store_a_session(app.test_client()), store_a_session(app.test_client())
    expire(app, expired)
    result = app.test_cli_runner().invoke(args=["delete-expired-sessions"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Deleted ")
    assert stored_session_ids(app) == {alive}  # other tests' expired rows went too


def test_a_process_cleans_up_now_and_then_as_it_saves(app: Flask) -> None:
    expired = store_a_session(app.test_client())
    expire(app, expired)
    store_a_session(app.test_client())
    assert expired in stored_session_ids(app)  # not yet: once per CLEANUP_INTERVAL
    app.session_interface.next_cleanup = 0  # type: ignore[attr-defined]
    newest = store_a_session(app.test_client())
    assert expired not in stored_session_ids(app)
    assert newest in stored_session_ids(app)


def test_the_app_creates_its_table_when_it_first_needs_it(
    settings: Settings, tmp_path: Path
) -> None:
    database = tmp_path / "instance" / "sessions.sqlite3"
    app = make_app(settings, database_url=f"sqlite:///{database}")
    assert not database.exists()  # starting needs no database
    sid = store_a_session(app.test_client())
    assert stored_session_ids(app) == {sid}
