"""Check the answers while cookiecutter asks for them, before anything is written.

cookiecutter.json names this module in `_extensions` (cookiecutter puts the template's folder
on `sys.path` while it bakes) and renders `{{ cookiecutter | refuse_bad_answers }}` in private
`__` variables right after the prompts they check. That is before cookiecutter creates the
project's folder, whose name is the slug: a slug such as `a/b` or `..` must be refused before
then, or its folders are left behind. A refused answer raises `AnswerRefused`, which
cookiecutter's command line (a click command) prints as one `Error: ...` line, exiting 1; the
Python API raises it as a `CookiecutterException`. `hooks/pre_gen_project.py` checks the same
answers again through `answer_problems`, for a bake that skips the prompts (`--replay`).
"""

import keyword
import re
import sys
import unicodedata

from click import ClickException
from cookiecutter.exceptions import CookiecutterException
from jinja2 import Environment
from jinja2.ext import Extension

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


class AnswerRefused(CookiecutterException, ClickException):
    """A prompt's answer that the template cannot bake; its message is one line."""


def name_problem(name: str) -> str | None:
    if not name.strip():
        return "project_name is empty; give the project a name."
    if any(unicodedata.category(char).startswith("C") for char in name):
        return "project_name must be one line of printable text."
    return None


def slug_problem(slug: str) -> str | None:
    if not slug.strip():
        return "project_slug is empty; give a package name such as logto_app."
    if not SLUG_PATTERN.fullmatch(slug):
        reason = (
            "must start with a lowercase ASCII letter and hold only lowercase letters, "
            "digits and underscores (at most 40)"
        )
    elif keyword.iskeyword(slug):
        reason = "is a Python keyword"
    elif slug in sys.stdlib_module_names or slug in TAKEN_NAMES:
        reason = "would shadow a module of the same name that the project imports"
    else:
        return None
    return f"project_slug {slug!r} {reason}; pick another project_slug."


def logto_problems(answers: dict[str, str]) -> list[str]:
    found = []
    endpoint = answers.get("logto_endpoint", "")
    if endpoint and not ENDPOINT_PATTERN.fullmatch(endpoint):
        found.append(
            f"logto_endpoint {endpoint!r} must be a bare URL such as "
            "https://your-tenant.logto.app (no path, no trailing slash), or empty."
        )
    app_id = answers.get("logto_app_id", "")
    if app_id and not APP_ID_PATTERN.fullmatch(app_id):
        found.append(f"logto_app_id {app_id!r} may hold only letters, digits, '-' and '_'.")
    return found


def answer_problems(answers: dict[str, str]) -> list[str]:
    """What is wrong with the answers given so far, one line each; empty when all is well."""
    found = []
    if "project_name" in answers and (problem := name_problem(answers["project_name"])):
        found.append(problem)
    slug = answers.get("project_slug")
    # A bad name gives an empty default slug: say only what the user typed wrong.
    if slug is not None and not (found and not slug.strip()) and (problem := slug_problem(slug)):
        found.append(problem)
    if answers.get("framework", FRAMEWORKS[0]) not in FRAMEWORKS:
        found.append(f"framework must be one of {', '.join(FRAMEWORKS)}.")
    if answers.get("session_backend", SESSION_BACKENDS[0]) not in SESSION_BACKENDS:
        found.append(f"session_backend must be one of {', '.join(SESSION_BACKENDS)}.")
    return found + logto_problems(answers)


def refuse_bad_answers(answers: dict[str, str]) -> str:
    if found := answer_problems(answers):
        raise AnswerRefused(" ".join(found))
    return ""


class AnswerChecks(Extension):
    """The filters `refuse_bad_answers` (raises) and `answer_problems` (lists)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["refuse_bad_answers"] = refuse_bad_answers
        environment.filters["answer_problems"] = answer_problems
