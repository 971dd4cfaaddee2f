"""Two server processes of the app share one store: a visitor may land on either."""

from typing import Any

import httpx2

from .conftest import make_settings
from .flow import csrf_token, sign_in
from .helpers import closed_port
from .oidc_provider import OidcProvider
from .servers import app_server


def test_two_app_processes_share_the_session_and_its_logout(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    first_port, second_port = closed_port(), closed_port()
    shared = {
        **make_settings(store_settings).model_dump(),
        "base_url": f"http://127.0.0.1:{first_port}",
        "logto_endpoint": provider.endpoint,
    }
    with (
        app_server(first_port, shared) as first_url,
        app_server(second_port, shared) as second_url,
        httpx2.Client(base_url=first_url) as first,
        httpx2.Client(base_url=second_url) as second,
    ):
        assert sign_in(first, provider, sub="alice", name="Alice").status_code == 302
        second.cookies = first.cookies  # one browser; cookies do not depend on the port

        profile = second.get("/profile")
        assert profile.status_code == 200
        assert "Alice" in profile.text

        signed_out = second.post("/sign-out", data={"csrf_token": csrf_token(first)})
        assert signed_out.status_code == 303
        assert first.get("/profile").headers["location"] == "/sign-in"

        # Logto's back-channel logout may reach either process; it ends the session for both.
        assert sign_in(first, provider, sub="alice").status_code == 302
        assert first.get("/profile").status_code == 200
        token = provider.logout_token(shared["logto_app_id"], sub="alice")
        assert second.post("/backchannel-logout", data={"logout_token": token}).status_code == 200
        assert first.get("/profile").headers["location"] == "/sign-in"
