"""A store outage: a 503 that no one keeps, one log line per failed request, and the
traceback only once per outage."""

import logging

import pytest
from django.test import Client

from .conftest import sign_in
from .oidc_provider import OidcProvider
from .store import store_down

PAGES = ("/profile", "/", "/healthz", "/sign-in", "/profile")


def store_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if "session store" in record.getMessage()]


def test_an_outage_logs_a_line_per_request_and_one_traceback(
    client: Client, logto: OidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in(client, logto)
    with store_down(), caplog.at_level(logging.WARNING):
        responses = [client.get(page) for page in PAGES]
    assert [response.status_code for response in responses] == [503] * len(PAGES)
    for response in responses[:2] + responses[3:]:
        assert "no-store" in response["Cache-Control"]
        assert "Cookie" in response["Vary"]
    failures = store_failures(caplog)
    assert len(failures) == len(PAGES)
    assert len(caplog.records) == len(PAGES)  # one line each, nothing else
    assert [record.exc_info is not None for record in failures] == [True] + [False] * 4

    # The store answers again: its next outage is a new one, with a traceback of its own.
    assert client.get("/profile").status_code == 200
    caplog.clear()
    with store_down(), caplog.at_level(logging.WARNING):
        assert client.get("/profile").status_code == 503
        assert client.get("/profile").status_code == 503
    assert [record.exc_info is not None for record in store_failures(caplog)] == [True, False]
