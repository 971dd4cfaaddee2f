"""The self-check command names a session store it cannot reach, never its URL."""

from django.conf import settings

from .oidc_provider import OidcProvider
from .servers import free_port
from .test_check import check

UNREACHABLE_STORES = {
    "redis": ("REDIS_URL", "redis://127.0.0.1:{port}/0"),
    "mongodb": ("MONGODB_URL", "mongodb://127.0.0.1:{port}/unreachable"),
    "sql database": ("DATABASE_URL", "postgresql://postgres@127.0.0.1:{port}/unreachable"),
}


def test_an_unreachable_store_fails(provider: OidcProvider) -> None:
    kind = settings.SESSION_STORE["KIND"]
    name, url = UNREACHABLE_STORES[kind.lower()]
    url = url.format(port=free_port())
    result = check(provider, **{name: url})
    assert result.returncode == 1
    assert f"FAIL  session store: {kind}: unreachable" in result.stdout
    assert url not in result.stdout + result.stderr
