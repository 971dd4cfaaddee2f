"""The self-check command names a session store it cannot reach, never its URL."""

from {{ cookiecutter.project_slug }}.sessions import STORE_KIND

from .oidc_provider import OidcProvider
from .test_check import check, closed_port, logto, store_env

UNREACHABLE_STORES = {
    "redis": ("REDIS_URL", "redis://127.0.0.1:{port}/0"),
    "mongodb": ("MONGODB_URL", "mongodb://127.0.0.1:{port}/unreachable"),
    "database": ("DATABASE_URL", "postgresql://postgres@127.0.0.1:{port}/unreachable"),
}


def test_an_unreachable_store_fails(provider: OidcProvider, store_settings) -> None:
    name, url = UNREACHABLE_STORES[STORE_KIND]
    url = url.format(port=closed_port())
    result = check(logto(provider) | store_env(store_settings) | {name: url})
    assert result.returncode == 1
    assert f"FAIL  session store: {STORE_KIND}: unreachable" in result.stdout
    assert url not in result.stdout + result.stderr
