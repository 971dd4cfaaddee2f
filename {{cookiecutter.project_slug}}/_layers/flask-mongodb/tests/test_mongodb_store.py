"""Sessions in MongoDB: unique ids, a TTL index on the expiry date, expired means missing."""

import time
from datetime import UTC, datetime

from flask import Flask

from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, store_a_session


def sessions_collection(app: Flask):
    return app.session_interface.store  # type: ignore[attr-defined]


def test_session_document_has_a_unique_id_and_an_expiry_date(settings: Settings) -> None:
    app = make_app(settings, session_lifetime=600)
    sid = store_a_session(app.test_client())
    collection = sessions_collection(app)
    document = collection.find_one({"id": f"{settings.session_key_prefix}{sid}"})
    assert document is not None
    assert isinstance(document["expiration"], datetime)  # a BSON date, as TTL indexes need
    seconds_left = (document["expiration"] - datetime.now(UTC)).total_seconds()
    assert 0 < seconds_left <= 600
    indexes = {index["key"][0][0]: index for index in collection.index_information().values()}
    assert indexes["id"].get("unique") is True
    assert indexes["expiration"]["expireAfterSeconds"] == 0


def test_expired_session_is_missing_before_mongodb_deletes_it(settings: Settings) -> None:
    app = make_app(settings, session_lifetime=1)
    client = app.test_client()
    store_a_session(client)
    time.sleep(1.5)  # past the expiry; MongoDB's TTL monitor runs only once a minute
    with client.session_transaction() as session:
        assert "visited" not in session
