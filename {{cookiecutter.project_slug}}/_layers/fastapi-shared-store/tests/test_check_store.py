"""The self-check command names a session store it cannot reach, never its URL."""

from .helpers import as_environment, closed_port
from .oidc_provider import OidcProvider
from .test_check import check, logto

UNREACHABLE_STORES = {
    "redis": ("REDIS_URL", "redis://127.0.0.1:{port}/0"),
    "mongodb": ("MONGODB_URL", "mongodb://127.0.0.1:{port}/unreachable"),
    "sql database": ("DATABASE_URL", "postgresql://postgres@127.0.0.1:{port}/unreachable"),
}


def test_an_unreachable_store_fails(provider: OidcProvider, store_settings) -> None:
    configured = as_environment(store_settings)
    kind, (name, url) = next(
        (kind, store) for kind, store in UNREACHABLE_STORES.items() if store[0] in configured
    )
    url = url.format(port=closed_port())
    result = check(logto(provider) | as_environment(store_settings) | {name: url})
    assert result.returncode == 1
    assert "FAIL  session store: " in result.stdout
    assert f"session store: {kind}: unreachable" in result.stdout.lower()
    assert url not in result.stdout + result.stderr
