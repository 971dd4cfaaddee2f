"""Bad answers stop the bake with one clear line and leave nothing behind, on disk or elsewhere.

Each refused answer is tried through the Python API and through the `cookiecutter` command a
user runs; both bake into an output folder that must stay empty, and the command runs with its
own empty home folder and working folder, which must stay empty too.
"""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click import ClickException
from cookiecutter.exceptions import CookiecutterException
from cookiecutter.main import cookiecutter

from .conftest import TEMPLATE

COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"
SENTINEL = "/tmp/logto-template-test-pwned"  # what a `$(touch ...)` answer would make

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
    "empty": "",
    "spaces": "   ",
    "slash": "a/b",
    "dot dot": "..",
    "parent path": "../escaped",
    "absolute path": "/tmp/escaped",
    "command substitution": f"$(touch {SENTINEL})",
    "python with a path": f"__import__('os').system('touch {SENTINEL}')",
}

HOSTILE_NAMES = {
    "empty": "",
    "spaces": "   ",
    "tab": "\t",
    "newline": "My app\nimport os",
    "only punctuation": "..",
    "slashes only": "/",
}

# Names are free text: each gives a safe slug, and the bake makes only that folder.
ODD_NAMES = {
    "command substitution": (f"$(touch {SENTINEL})", "touch_tmp_logto_template_test_pwned"),
    "parent path": ("../../escaped", "escaped"),
    "python with a path": (f"open('{SENTINEL}', 'w')", "open_tmp_logto_template_test_pwned_w"),
    "quotes": ('Bob\'s "app"', "bob_s_app"),
    "unicode": ("Café Ünïcode", "cafe_unicode"),
}  # fmt: skip

HOSTILE_LOGTO_ANSWERS = {
    "endpoint with a path": {"logto_endpoint": "https://tenant.logto.app/oidc"},
    "endpoint without scheme": {"logto_endpoint": "tenant.logto.app"},
    "endpoint with a newline": {"logto_endpoint": "https://a.example\nSESSION_SECRET=x"},
    "app id with a newline": {"logto_app_id": "abc\nLOGTO_APP_SECRET=x"},
    "app id with quotes": {"logto_app_id": 'abc"'},
}


@pytest.fixture(autouse=True)
def no_sentinel():
    Path(SENTINEL).unlink(missing_ok=True)
    yield
    assert not Path(SENTINEL).exists(), "an answer ran a command"


def api_refuses(output: Path, answers: dict[str, str]) -> str:
    """Bake through the Python API; returns the refusal's message."""
    with pytest.raises(CookiecutterException) as refused:
        cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output))
    assert not output.exists() or not any(output.iterdir())
    # The command line prints a click exception as one line, without a traceback.
    assert isinstance(refused.value, ClickException)
    message = str(refused.value)
    assert message and "\n" not in message
    return message


def bake_by_command(
    place: Path, answers: dict[str, str], stdin: str | None = None, columns: int = 80
) -> subprocess.CompletedProcess[str]:
    """Run `cookiecutter` as a user would, in an empty folder with an empty home."""
    home, work = place / "home", place / "work"
    home.mkdir()
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env |= {"HOME": str(home), "COLUMNS": str(columns)}
    arguments = [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(
        [str(COOKIECUTTER), *([] if stdin is not None else ["--no-input"]), str(TEMPLATE),
         *arguments],
        cwd=work,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def command_refuses(place: Path, answers: dict[str, str]) -> str:
    """The command prints one error line, no traceback, exits 1 and leaves nothing anywhere."""
    result = bake_by_command(place, answers)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    assert result.returncode == 1
    assert not any((place / "work").iterdir()), "the refused bake left files behind"
    assert not any((place / "home").iterdir()), "the refused bake wrote into the home folder"
    assert sorted(path.name for path in place.iterdir()) == ["home", "work"]
    return lines[0]


@pytest.mark.parametrize("slug", HOSTILE_SLUGS.values(), ids=HOSTILE_SLUGS.keys())
def test_bad_slug_is_refused_and_leaves_nothing(tmp_path: Path, slug: str) -> None:
    assert "project_slug" in api_refuses(tmp_path / "out", {"project_slug": slug})


@pytest.mark.parametrize("slug", HOSTILE_SLUGS.values(), ids=HOSTILE_SLUGS.keys())
def test_command_refuses_a_bad_slug_in_one_line(tmp_path: Path, slug: str) -> None:
    assert "project_slug" in command_refuses(tmp_path, {"project_slug": slug})


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_bad_name_is_refused_and_leaves_nothing(tmp_path: Path, name: str) -> None:
    message = api_refuses(tmp_path / "out", {"project_name": name})
    assert message.startswith(("project_name", "project_slug is empty")), message
    message = command_refuses(tmp_path, {"project_name": name})
    assert message.startswith(("Error: project_name", "Error: project_slug is empty")), message


@pytest.mark.parametrize(
    "answers", HOSTILE_LOGTO_ANSWERS.values(), ids=HOSTILE_LOGTO_ANSWERS.keys()
)
def test_bad_logto_answer_is_refused(tmp_path: Path, answers: dict[str, str]) -> None:
    assert next(iter(answers)) in api_refuses(tmp_path / "out", answers)
    assert next(iter(answers)) in command_refuses(tmp_path, answers)


def test_empty_name_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    message = api_refuses(tmp_path / "out", {"project_name": "", "project_slug": ""})
    assert message.startswith("project_name is empty")


@pytest.mark.parametrize(("name", "slug"), ODD_NAMES.values(), ids=ODD_NAMES.keys())
def test_odd_project_name_bakes_only_its_slug_folder(tmp_path: Path, name: str, slug: str) -> None:
    result = bake_by_command(tmp_path, {"project_name": name})
    assert result.returncode == 0, result.stdout + result.stderr
    work = tmp_path / "work"
    assert [path.name for path in work.iterdir()] == [slug]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home", "work"]
    assert f"# {name}\n" in (work / slug / "README.md").read_text()


def test_a_refused_slug_typed_at_the_prompt_stops_at_once(tmp_path: Path) -> None:
    result = bake_by_command(tmp_path, {}, stdin="My App\na/b\n")
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "Error: project_slug 'a/b' must start with a lowercase ASCII letter and hold only "
        "lowercase letters, digits and underscores (at most 40); pick another project_slug."
    ]
    assert result.returncode == 1
    assert not any((tmp_path / "work").iterdir())


def test_prompts_fit_80_columns(tmp_path: Path) -> None:
    """Each prompt, with its default, is shown whole on one line of an 80-column terminal."""
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    prompts = context["__prompts__"]
    asked = [key for key in context if not key.startswith("_")]
    defaults = {"project_name": "Logto App", "project_slug": "logto_app"}
    expected = []
    for number, key in enumerate(asked, start=1):
        prompt = prompts[key]
        if isinstance(prompt, dict):
            expected.append(f"  [{number}/{len(asked)}] {prompt['__prompt__']}")
            expected += [
                f"    {index} - {prompt[choice]}"
                for index, choice in enumerate(context[key], start=1)
            ]
        else:
            expected.append(f"  [{number}/{len(asked)}] {prompt} ({defaults.get(key, '')}):")
    result = bake_by_command(tmp_path, {}, stdin="\n" * len(asked))
    assert result.returncode == 0, result.stdout + result.stderr
    shown = result.stdout
    for line in expected:
        assert len(line) < 80 and line in shown, f"{line!r} is not shown whole:\n{shown}"


@pytest.mark.parametrize("framework", ["flask", "fastapi", "django"])
def test_quotes_in_project_name_bake_a_safe_project(tmp_path: Path, framework: str) -> None:
    name = 'Bob\'s "app" \\ (beta)'
    answers = {"project_name": name, "project_slug": "bobs_app", "framework": framework}
    project = Path(
        cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(tmp_path))
    )
    assert project.name == "bobs_app"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] in {"bobs_app", "bobs-app"}
    assert pyproject["project"]["description"].startswith(name)
    assert name in (project / "README.md").read_text()


def test_a_replayed_bad_answer_is_refused_by_the_hook(tmp_path: Path) -> None:
    """A replay file skips the prompts; the pre-generation hook refuses its answers instead."""
    replay_dir = tmp_path / "replay"
    config = tmp_path / "config.yaml"
    config.write_text(f"replay_dir: {json.dumps(str(replay_dir))}\n")
    project = Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, output_dir=str(tmp_path / "one"), config_file=str(config)
        )
    )
    replay = json.loads((replay_dir / f"{TEMPLATE.name}.json").read_text())
    replay["cookiecutter"]["project_slug"] = "class"
    replay_file = tmp_path / "replay.json"
    replay_file.write_text(json.dumps(replay))
    assert project.is_dir()
    output = tmp_path / "two"
    with pytest.raises(CookiecutterException):
        cookiecutter(str(TEMPLATE), replay=str(replay_file), output_dir=str(output))
    assert not output.exists() or not any(output.iterdir())


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
