"""While the store is down, each failed request logs one line; one traceback says why."""

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.main import create_app
from {{ cookiecutter.project_slug }}.session_middleware import new_session_id

from .conftest import BASE_URL, make_settings
from .helpers import closed_port
from .oidc_provider import OidcProvider

UNREACHABLE_STORES = {
    "redis_url": "redis://127.0.0.1:{port}/0",
    "mongodb_url": "mongodb://127.0.0.1:{port}/unreachable",
    "database_url": "postgresql://postgres@127.0.0.1:{port}/unreachable",
}
FAILING_REQUESTS = 5


def test_an_outage_logs_one_traceback_and_a_line_per_failed_request(
    provider: OidcProvider, store_settings: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    [name] = UNREACHABLE_STORES.keys() & store_settings.keys()
    unreachable = {name: UNREACHABLE_STORES[name].format(port=closed_port())}
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, **unreachable)
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        client.cookies.set("session", new_session_id(), domain="127.0.0.1")
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            for _ in range(FAILING_REQUESTS):
                assert client.get("/profile").status_code == 503
    outage = [
        record for record in caplog.records if "session store is unavailable" in record.getMessage()
    ]
    assert len(outage) == FAILING_REQUESTS
    assert len([record for record in outage if record.exc_info]) == 1
    assert outage[0].exc_info  # the first
