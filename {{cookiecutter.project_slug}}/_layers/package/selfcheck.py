"""The checks behind the `check` command: is this deployment ready to sign people in?

Each check prints one line; the command exits with 1 when any of them failed, so that a
deploy script or a container healthcheck can stop on it.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def logto_checks(endpoint: str, app_id: str, app_secret: str, base_url: str) -> list[Check]:
    settings = {"LOGTO_ENDPOINT": endpoint, "LOGTO_APP_ID": app_id, "LOGTO_APP_SECRET": app_secret}
    missing = [name for name, value in settings.items() if not value]
    checks = [
        Check("settings", not missing, f"missing {', '.join(missing)}" if missing else "all set"),
        Check("redirect URI", True, f"register {base_url}/callback in the Logto console"),
        Check("post sign-out redirect URI", True, f"register {base_url}/ in the Logto console"),
    ]
    if endpoint:
        checks.append(discovery_check(endpoint))
    return checks


def discovery_check(endpoint: str) -> Check:
    url = f"{endpoint}/oidc/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            issuer = json.load(response)["issuer"]
    except (OSError, ValueError, KeyError) as error:
        return Check("Logto discovery", False, f"{url}: {error}")
    return Check("Logto discovery", True, f"{url} (issuer {issuer})")


def report(checks: list[Check]) -> int:
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    return 0 if all(check.ok for check in checks) else 1
