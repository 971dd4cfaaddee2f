"""Sessions in a SQL database: one row per session, expired rows read as missing and deleted."""

import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from {{ cookiecutter.project_slug }}.sessions import index_table, sessions_table
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, session_id, sign_in, store_a_session
from .oidc_provider import OidcProvider
from .store import stored_session_ids

TABLES = ("sessions", "session_index", "used_keys")


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
    assert [index["column_names"] for index in indexes] == [["expires_at"]]


def columns_of(connection: sa.Connection, table: str) -> dict[str, tuple[str, bool]]:
    """Each column of `table`: its SQL type's class name, and whether it is in the key."""
    inspector = sa.inspect(connection)
    key = set(inspector.get_pk_constraint(table)["constrained_columns"])
    return {
        column["name"]: (type(column["type"]).__name__.upper(), column["name"] in key)
        for column in inspector.get_columns(table)
    }


def test_the_tables_are_those_every_framework_uses(
    app: Flask, provider: OidcProvider, settings: Settings
) -> None:
    client = app.test_client()
    sign_in(client, provider, sub="alice")
    with engine_of(app).connect() as connection:
        tables = {table: columns_of(connection, table) for table in TABLES}
        index_rows = connection.execute(sa.select(index_table)).all()
    float_type = tables["sessions"]["expires_at"][0]  # FLOAT, or REAL in PostgreSQL
    assert tables == {
        "sessions": {
            "id": ("VARCHAR", True),
            "data": (tables["sessions"]["data"][0], False),
            "expires_at": (float_type, False),
        },
        "session_index": {
            "key": ("VARCHAR", True),
            "session_id": ("VARCHAR", True),
            "expires_at": (float_type, False),
        },
        "used_keys": {"key": ("VARCHAR", True), "expires_at": (float_type, False)},
    }
    store_id = f"{settings.session_key_prefix}{session_id(client)}"
    assert ("sub:alice", store_id) in {(row.key, row.session_id) for row in index_rows}


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
