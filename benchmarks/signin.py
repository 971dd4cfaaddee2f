"""The OpenID Connect provider that every baked project ships (run once for the whole run)
and the real sign-in flow against it, as a browser goes through it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from config import HOST, USER_NAME, USER_SUB, BenchmarkError
from processes import Processes, http_client, http_get, plain_env, tail

# werkzeug's access log: `"GET /oidc/jwks HTTP/1.1" 200`, some lines wrapped in ANSI colours.
PROVIDER_LINE = re.compile(r'"(?:\x1b\[[\d;]*m)?(?:GET|POST|PUT|DELETE) (\S+) HTTP/[\d.]+')


@dataclass
class Provider:
    """The running OIDC provider: its endpoint (LOGTO_ENDPOINT) and its access log."""

    endpoint: str
    log: Path

    def requests(self) -> list[str]:
        """The paths the provider has answered so far (its werkzeug access log)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [match[1] for match in PROVIDER_LINE.finditer(text)]


def provider_kind(path: str) -> str:
    for marker, kind in (
        (".well-known/openid-configuration", "discovery"),
        ("jwks", "jwks"),
        ("/token", "token"),
        ("/authorize", "authorize"),
        ("userinfo", "userinfo"),
        ("/users/", "user_admin"),
        ("end_session", "end_session"),
    ):
        if marker in path:
            return kind
    return "other"


def start_provider(processes: Processes, project: Path, workdir: Path) -> Provider:
    """The project's tests/oidc_provider.py, in a throwaway env with its dev dependencies."""
    wanted = {"oidc-provider-mock", "authlib", "httpx"}
    dev = tomllib.loads((project / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    specs = [spec for spec in dev if re.split(r"[\s<>=~!\[;]", spec)[0].lower() in wanted]
    withs = [arg for spec in specs for arg in ("--with", spec)]
    argv = ["uv", "run", "--isolated", "--no-project", *withs, "python", "-W", "ignore",
            str(project / "tests" / "oidc_provider.py")]  # fmt: skip
    log = workdir / "provider.log"
    process = processes.start(argv, cwd=workdir, env=plain_env(), log=log, stdout_pipe=True)
    assert process.stdout is not None
    port_line = process.stdout.readline()
    if not port_line.strip().isdigit():
        raise BenchmarkError(f"the OIDC provider did not start:\n{tail(log)}")
    return Provider(f"http://{HOST}:{int(port_line)}", log)


def sign_in(app_url: str, provider: Provider, *, check: bool = True) -> str:
    """The real flow: /sign-in, the provider's form, /callback; returns the Cookie header.

    `check`: also load `/` with the new cookie and make sure it shows the user.
    """
    with http_client(base_url=app_url) as browser:
        started = browser.get("/sign-in")
        if started.status_code not in (302, 303, 307):
            raise BenchmarkError(f"/sign-in answered {started.status_code}: {started.text[:300]}")
        with http_client() as provider_form:
            authorized = provider_form.post(started.headers["location"], data={"sub": USER_SUB})
        if authorized.status_code != 302:
            raise BenchmarkError(f"the provider answered {authorized.status_code}")
        finished = browser.get(authorized.headers["location"])
        if finished.status_code not in (302, 303, 307):
            raise BenchmarkError(
                f"/callback answered {finished.status_code}: {finished.text[:300]}"
            )
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
    if check and not signed_in_with(app_url, cookie):
        page = http_get(app_url + "/", cookie)
        raise BenchmarkError(f"signed-in / does not show who is signed in:\n{page.text[:500]}")
    return cookie


def signed_in_with(app_url: str, cookie: str) -> bool:
    """Whether the app's `/` shows the benchmark's user to the browser with `cookie`."""
    page = http_get(app_url + "/", cookie)
    return page.status_code == 200 and (USER_NAME in page.text or USER_SUB in page.text)
