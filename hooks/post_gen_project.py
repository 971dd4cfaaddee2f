"""Shape the baked project: keep only the chosen framework's and backend's files, write .env.

The template keeps each option's files whole in `_layers/<name>/`. The table in `layers()` is
the one place that says which layers make up a project and where each one lands.
"""

import json
import secrets
import shutil
from pathlib import Path

ANSWERS: dict[str, str] = json.loads(r"""{{ cookiecutter | tojson }}""")

LAYERS_DIR = Path("_layers")

RUN_COMMANDS = {
    "flask": "uv run flask --app {slug}.app run --port 8000",
    "fastapi": "uv run uvicorn {slug}.main:app --port 8000 --reload",
    "django": "uv run python manage.py runserver 127.0.0.1:8000",
}


def layers(framework: str, backend: str, slug: str) -> list[tuple[str, str]]:
    """(layer, destination) pairs in the order they are laid; later files replace earlier ones."""
    package = slug if framework == "django" else f"src/{slug}"
    by_framework = {
        "flask": [("package", package), ("flask", ".")],
        "fastapi": [("package", package), ("fastapi", ".")],
        "django": [("package", package), ("django", ".")],
    }
    # Redis, MongoDB and SQL databases are stores outside the process, shared by every
    # app process: what a framework does alike for all of them lives in one layer.
    shared_store = [] if backend == "memory" else [(f"{framework}-shared-store", ".")]
    return [
        *by_framework[framework],
        (backend, "."),
        *shared_store,
        (f"{framework}-{backend}", "."),
    ]


def lay_out(project: Path, framework: str, backend: str, slug: str) -> None:
    for layer, destination in layers(framework, backend, slug):
        source = project / LAYERS_DIR / layer
        if source.is_dir():
            shutil.copytree(source, project / destination, dirs_exist_ok=True)
    shutil.rmtree(project / LAYERS_DIR)


def write_env(project: Path) -> None:
    """`.env` is `.env.example` with this project's own session secret."""
    example = (project / ".env.example").read_text()
    secret = secrets.token_urlsafe(48)
    env = example.replace("SESSION_SECRET=\n", f"SESSION_SECRET={secret}\n")
    (project / ".env").write_text(env)


def main() -> None:
    project = Path.cwd()
    slug, framework = ANSWERS["project_slug"], ANSWERS["framework"]
    lay_out(project, framework, ANSWERS["session_backend"], slug)
    write_env(project)
    run = RUN_COMMANDS[framework].format(slug=slug)
    if framework == "django" and ANSWERS["session_backend"] == "database":
        run = f"uv run python manage.py migrate && {run}"
    print(
        f"\nCreated {project.name}/ ({framework}, {ANSWERS['session_backend']} sessions).\n"
        f"  cd {project.name}\n"
        f"  {run}   # http://127.0.0.1:8000\n"
        "  uv run pytest\n"
        "Sign-in needs LOGTO_ENDPOINT, LOGTO_APP_ID and LOGTO_APP_SECRET in .env;"
        " README.md says how.\n"
    )


if __name__ == "__main__":
    main()
