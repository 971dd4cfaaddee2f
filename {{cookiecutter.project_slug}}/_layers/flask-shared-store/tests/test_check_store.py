"""The self-check command names a session store it cannot reach, never its URL."""

from {{ cookiecutter.project_slug }}.sessions import STORE_KIND

from .oidc_provider import OidcProvider
from .servers import environment_of, free_port, logto_environment, run_check

UNREACHABLE_STORES = {
    "Redis": ("REDIS_URL", "redis://127.0.0.1:{port}/0"),
    "MongoDB": ("MONGODB_URL", "mongodb://127.0.0.1:{port}/unreachable"),
    "SQL database": ("DATABASE_URL", "postgresql://postgres@127.0.0.1:{port}/unreachable"),
}


def test_an_unreachable_store_fails(provider: OidcProvider, store_settings) -> None:
    name, url = UNREACHABLE_STORES[STORE_KIND]
    url = url.format(port=free_port())
    result = run_check(
        logto_environment(provider.endpoint) | environment_of(store_settings) | {name: url}
    )
    assert result.returncode == 1
    assert f"FAIL  session store: {STORE_KIND}: unreachable" in result.stdout
    assert url not in result.stdout + result.stderr
