"""Validate the answers before anything is written.

Answers arrive as JSON (`tojson`), so quotes, backslashes or Jinja syntax in an answer
cannot break or inject code into this script. A bad answer prints one line and exits 1;
cookiecutter then removes the half-made project directory.
"""

import json
import keyword
import re
import sys

ANSWERS: dict[str, str] = json.loads(r"""{{ cookiecutter | tojson }}""")

FRAMEWORKS = ("flask", "fastapi", "django")
SESSION_BACKENDS = ("memory", "redis", "mongodb", "database")

# Top-level modules a generated project imports or ships beside its package: a package
# with one of these names would shadow it.
TAKEN_NAMES = frozenset(
    {
        "aiohttp", "aiosqlite", "app", "asgiref", "asyncpg", "cachelib", "config", "django",
        "dotenv", "fastapi", "flask", "flask_session", "gunicorn", "httpx", "jinja2", "jwt",
        "logto", "main", "manage", "oidc_provider_mock", "psycopg", "pydantic",
        "pydantic_settings", "pymongo", "pytest", "redis", "secantus", "settings", "sqlalchemy",
        "starlette", "starsessions", "test", "tests", "uvicorn", "werkzeug",
    }
)  # fmt: skip

SLUG_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
APP_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
ENDPOINT_PATTERN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def slug_problem(slug: str) -> str | None:
    if not SLUG_PATTERN.fullmatch(slug):
        return (
            "must start with a lowercase ASCII letter and hold only lowercase letters, "
            "digits and underscores (at most 40)"
        )
    if keyword.iskeyword(slug):
        return "is a Python keyword"
    if slug in sys.stdlib_module_names or slug in TAKEN_NAMES:
        return "would shadow a module of the same name that the project imports"
    return None


def problems(answers: dict[str, str]) -> list[str]:
    found = []
    slug = answers["project_slug"]
    if (reason := slug_problem(slug)) is not None:
        found.append(f"project_slug {slug!r} {reason}; pick another project_slug.")
    if answers["framework"] not in FRAMEWORKS:
        found.append(f"framework must be one of {', '.join(FRAMEWORKS)}.")
    if answers["session_backend"] not in SESSION_BACKENDS:
        found.append(f"session_backend must be one of {', '.join(SESSION_BACKENDS)}.")
    endpoint = answers["logto_endpoint"]
    if endpoint and not ENDPOINT_PATTERN.fullmatch(endpoint):
        found.append(
            f"logto_endpoint {endpoint!r} must be a bare URL such as "
            "https://your-tenant.logto.app (no path, no trailing slash), or empty."
        )
    app_id = answers["logto_app_id"]
    if app_id and not APP_ID_PATTERN.fullmatch(app_id):
        found.append(f"logto_app_id {app_id!r} may hold only letters, digits, '-' and '_'.")
    return found


if __name__ == "__main__":
    for problem in problems(ANSWERS):
        print(f"ERROR: {problem}", file=sys.stderr)
        sys.exit(1)
