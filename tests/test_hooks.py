"""Bad answers stop the bake with one clear line and leave nothing behind."""

import tomllib
from pathlib import Path

import pytest
from cookiecutter.exceptions import CookiecutterException
from cookiecutter.main import cookiecutter

from .conftest import TEMPLATE

HOSTILE_SLUGS = {
    "keyword": "class",
    "standard library": "email",
    "dependency": "flask",
    "django project package": "config",
    "test package": "tests",
    "leading digit": "1app",
    "quotes": 'my"app',
    "backslash": "my\\app",
    "jinja": "{{ 7 * 7 }}x",
    "unicode": "café",
    "dash": "my-app",
    "newline": "app\nimport os",
}

HOSTILE_LOGTO_ANSWERS = {
    "endpoint with a path": {"logto_endpoint": "https://tenant.logto.app/oidc"},
    "endpoint without scheme": {"logto_endpoint": "tenant.logto.app"},
    "endpoint with a newline": {"logto_endpoint": "https://a.example\nSESSION_SECRET=x"},
    "app id with a newline": {"logto_app_id": "abc\nLOGTO_APP_SECRET=x"},
    "app id with quotes": {"logto_app_id": 'abc"'},
}


def bake_fails(output: Path, answers: dict[str, str]) -> None:
    with pytest.raises(CookiecutterException):
        cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output))
    assert not output.exists() or not any(output.iterdir())


def only_error_line(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize("slug", HOSTILE_SLUGS.values(), ids=HOSTILE_SLUGS.keys())
def test_bad_slug_is_refused_and_leaves_nothing(tmp_path: Path, capfd, slug: str) -> None:
    bake_fails(tmp_path / "out", {"project_slug": slug})
    assert "project_slug" in only_error_line(capfd.readouterr().err)


@pytest.mark.parametrize(
    "answers", HOSTILE_LOGTO_ANSWERS.values(), ids=HOSTILE_LOGTO_ANSWERS.keys()
)
def test_bad_logto_answer_is_refused(tmp_path: Path, capfd, answers: dict[str, str]) -> None:
    bake_fails(tmp_path / "out", answers)
    assert next(iter(answers)) in only_error_line(capfd.readouterr().err)


def test_empty_name_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    bake_fails(tmp_path / "out", {"project_name": "", "project_slug": ""})


def test_quotes_in_project_name_bake_a_safe_project(tmp_path: Path) -> None:
    name = 'Bob\'s "app" \\ (beta)'
    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context={"project_name": name, "project_slug": "bobs_app"},
            output_dir=str(tmp_path),
        )
    )
    assert project.name == "bobs_app"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] in {"bobs_app", "bobs-app"}
    assert name in (project / "README.md").read_text()


def test_every_bake_gets_its_own_session_secret(tmp_path: Path) -> None:
    secrets = set()
    for output in ("one", "two"):
        project = Path(
            cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path / output))
        )
        env = dict(
            line.split("=", 1)
            for line in (project / ".env").read_text().splitlines()
            if "=" in line
        )
        assert len(env["SESSION_SECRET"]) >= 32
        assert "SESSION_SECRET=\n" in (project / ".env.example").read_text()
        secrets.add(env["SESSION_SECRET"])
    assert len(secrets) == 2
