"""Instructions per request, in-process, counted by callgrind: the bare app and the baked
app's anonymous and signed-in `/`, each framework with memory sessions, as in production.

    uv run python benchmarks/instructions.py [--frameworks flask,fastapi,django]
        [--requests 500] [--commit REV] [--project PATH]... [--cprofile] [--keep]

Instruction counts do not depend on what else runs on the machine, where req/s and CPU time
do: a change to the request path is measured here to a fraction of a per cent, on a busy
machine too. They leave out the server (gunicorn, uvicorn) and the kernel, which a served
request also pays (benchmarks/README.md, "Profile"), so the in-process ratio is lower than
the served one. `inprocess.py` is the driver (run with the project's interpreter); each
app runs in its own process under `valgrind --tool=callgrind`, and each target's count is
that of its REQUESTS requests over REQUESTS, after 200 requests of warm-up. `--cprofile`
prints cProfile's top functions per target instead (no valgrind). `--project` measures a
project baked already (e.g. one edited by hand to try a change).
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from apps import bake, bare_entry_point, dockerfile_command, entry_point_index, template_at, uv_sync
from config import BARE_APPS, BENCHMARKS, FRAMEWORKS, HOST
from processes import Processes, plain_env
from run import choices, work_directory
from signin import Provider, start_provider

DRIVER = BENCHMARKS / "inprocess.py"
BASE_URL = f"https://{HOST}:8443"  # no server listens there: it names the app's host


def framework_of(project: Path, server: list[str]) -> str:
    if (project / "manage.py").exists():
        return "django"
    return "fastapi" if Path(server[0]).name == "uvicorn" else "flask"


def parts(out: Path) -> list[int]:
    """The instruction counts of callgrind's dumps `out.1`, `out.2`, …, in order."""
    dumps = sorted(out.parent.glob(out.name + ".*"), key=lambda path: int(path.suffix[1:]))
    counts = []
    for dump in dumps:
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith("summary:"):
                counts.append(int(line.split()[1]))
    return counts


def drive(
    python: Path, cwd: Path, env: dict[str, str], args: list[str], out: Path, cprofile: bool
) -> list[int]:
    """The driver on one app; the instructions of each target's requests (callgrind)."""
    argv = [str(python), str(DRIVER), *args]
    if cprofile:
        result = subprocess.run([*argv, "--cprofile"], cwd=cwd, env=env, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"the driver failed on {args[1]}")
        return []
    valgrind = ["valgrind", "--tool=callgrind", "--dump-before=getsid",
                f"--callgrind-out-file={out}"]  # fmt: skip
    result = subprocess.run(
        valgrind + argv, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"the driver failed on {args[1]}:\n{result.stderr[-3000:]}")
    # Dump 1 is the start-up, sign-in and warm-up; then one dump per target.
    return parts(out)[1:]


def measure(
    project: Path, provider: Provider, requests: int, workdir: Path, cprofile: bool
) -> dict[str, float]:
    """Instructions per request of the bare `/` and the app's anonymous and signed-in `/`."""
    server = dockerfile_command(project)
    entry_point = server[entry_point_index(server)]
    framework = framework_of(project, server)
    interface = "asgi" if framework == "fastapi" else "wsgi"
    python = project / ".venv" / "bin" / "python"
    env = plain_env(
        APP_ENV="production",
        BASE_URL=BASE_URL,
        LOGTO_ENDPOINT=provider.endpoint,
        LOGTO_APP_ID="bench-app",
        LOGTO_APP_SECRET="bench-app-secret",
        SESSION_SECRET=secrets.token_urlsafe(48),
        PYTHONHASHSEED="0",
    )
    n = str(requests)
    bare_env = env | {"PYTHONPATH": f"{BARE_APPS}:{project}"}
    bare_args = [interface, bare_entry_point(framework, entry_point), n, "bare"]
    bare = drive(python, BARE_APPS, bare_env, bare_args, workdir / f"{project.name}-bare", cprofile)
    app_args = [interface, entry_point, n, "anonymous", "signed_in"]
    app = drive(python, project, env, app_args, workdir / f"{project.name}-app", cprofile)
    if cprofile:
        return {}
    counts = dict(zip(["bare", "anonymous", "signed_in"], bare + app, strict=True))
    return {target: count / requests for target, count in counts.items()}


def row(name: str, counts: dict) -> str:
    bare = counts["bare"]
    cells = [f"{bare / 1000:.1f}k"]
    for target in ("anonymous", "signed_in"):
        count = counts[target]
        cells.append(f"{count / 1000:.1f}k (+{(count - bare) / 1000:.1f}k; {bare / count:.2f})")
    return f"| {name} | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", type=lambda t: choices(t, FRAMEWORKS, "--frameworks"))
    parser.add_argument("--requests", type=int, default=500, help="requests per target")
    parser.add_argument("--commit", help="bake the template as of this commit")
    parser.add_argument("--project", type=Path, action="append", help="a baked project")
    parser.add_argument("--cprofile", action="store_true", help="cProfile, not callgrind")
    parser.add_argument("--keep", action="store_true", help="keep the projects and dumps")
    args = parser.parse_args(argv)
    if not args.cprofile and shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    processes = Processes()
    rows = []
    try:
        with work_directory(args.keep) as workdir:
            projects = [path.resolve() for path in args.project or []]
            if not projects:
                template, info = template_at(args.commit, workdir)
                print(f"template: {info}", flush=True)
                for framework in args.frameworks or FRAMEWORKS:
                    project = bake(framework, "memory", workdir / "projects", template)
                    uv_sync(project, workdir / f"{framework}-setup.log")
                    projects.append(project)
            provider = start_provider(processes, projects[0], workdir)
            for project in projects:
                print(f"== {project.name}", flush=True)
                counts = measure(project, provider, args.requests, workdir, args.cprofile)
                if counts:
                    rows.append(row(project.name, counts))
                    print(rows[-1], flush=True)
    finally:
        processes.stop_all()
    if rows:
        print("\n| project | bare `/` | anonymous `/` (over bare; bare/app) | signed-in `/` |")
        print("|---|---|---|---|")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
