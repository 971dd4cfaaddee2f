"""Benchmark the baked apps against a bare hello-world app of the same framework (issue 8).

    uv run python benchmarks/run.py [--quick] [--frameworks flask,fastapi,django]
                                    [--backends memory,redis,mongodb,database]

For each framework × backend it bakes the template into a temporary folder, installs the
project (`uv sync --no-dev`), starts the app under the production server of its Dockerfile's
CMD with one worker pinned to CPU 0, beside its store and a bare app of the same framework
under the same server; signs a user in through the real flow against the test OIDC provider
that every baked project ships; loads the bare `/`, the app's anonymous `/` and the app's
signed-in `/` with wrk pinned to CPU 1, in interleaved rounds; counts store and provider
traffic per request; and checks that anonymous requests store no session. It prints a table
and writes JSON (benchmarks/results/latest.json). benchmarks/README.md explains the method.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apps import Server, bake, start_bare, template_at, uv_sync
from case import Bench, Case, run_case
from config import (
    ANONYMOUS_BUDGET,
    APP_CPU,
    BACKENDS,
    CONNECTIONS,
    FLOOR_MARGINS,
    FRAMEWORKS,
    FULL,
    HOST,
    LOAD_CPU,
    QUICK,
    README,
    RESULTS,
    SIGNED_IN_BUDGETS,
    BenchmarkError,
    Mode,
)
from processes import Processes
from report import budgets_table, details, print_case, table, update_readme
from signin import Provider, start_provider


def choices(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    picked = [item.strip() for item in text.split(",") if item.strip()]
    unknown = sorted(set(picked) - set(allowed))
    if unknown or not picked:
        raise argparse.ArgumentTypeError(f"{what}: pick from {', '.join(allowed)}")
    return picked


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a second of load per target")
    parser.add_argument("--frameworks", type=lambda t: choices(t, FRAMEWORKS, "--frameworks"))
    parser.add_argument("--backends", type=lambda t: choices(t, BACKENDS, "--backends"))
    parser.add_argument("--seconds", type=float, help="load per wrk run (overrides the mode)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (overrides the mode)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--profile", action="store_true", help="py-spy the signed-in page")
    parser.add_argument("--update-readme", action="store_true", help="put the table in README")
    parser.add_argument(
        "--commit", help="bake the template as of this commit (default: the working tree)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the projects and logs")
    parser.add_argument("--note", default="", help="said above the table (e.g. a busy machine)")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", f"redis://{HOST}:6379/0")
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = QUICK if args.quick else FULL
    if args.seconds or args.rounds:
        mode = replace(
            mode, seconds=args.seconds or mode.seconds, rounds=args.rounds or mode.rounds
        )
    frameworks = args.frameworks or list(FRAMEWORKS)
    backends = args.backends or (["memory"] if args.quick else list(BACKENDS))
    for tool in ("wrk", "taskset", "uv"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (wrk: apt-get install wrk)")
    RESULTS.mkdir(exist_ok=True)
    # This driver (sign-ins, counted requests, probes) stays off the app's CPU, like wrk.
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    report = new_report(mode, args.quick, args.note)
    processes = Processes()
    try:
        with work_directory(args.keep) as workdir:
            template, report["template"] = template_at(args.commit, workdir)
            print(f"template: {report['template']}", flush=True)
            bench = Bench(mode, processes, workdir, args.redis_url, args.profile)
            provider: Provider | None = None
            for framework in frameworks:
                provider = run_framework(framework, backends, bench, template, report, provider)
    finally:
        processes.stop_all()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["machine"]["load_average_after"] = load_average()
    write_report(report, args.output, args.update_readme)
    return 0 if all(case.get("status") == "ok" for case in report["cases"]) else 1


def new_report(mode: Mode, quick: bool, note: str) -> dict[str, Any]:
    """The JSON report before any case: when, how and on what the run measures."""
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "note": note,
        "settings": {
            "seconds": mode.seconds,
            "rounds": mode.rounds,
            "warm_up_seconds": mode.warm_up_seconds,
            "connections": CONNECTIONS,
            "app_cpu": APP_CPU,
            "load_cpu": LOAD_CPU,
            "sign_ins": mode.sign_ins,
            "counted_requests": mode.counted_requests,
            "anonymous_requests": mode.anonymous_requests,
            "bounded_sign_ins": mode.bounded_sign_ins,
            "memory_bound": mode.memory_bound,
        },
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_average()},
        "budgets": {
            "anonymous": ANONYMOUS_BUDGET,
            "signed_in": {f"{f}-{b}": v for (f, b), v in SIGNED_IN_BUDGETS.items()},
            "signed_in_below_floor_at_most": FLOOR_MARGINS,
        },
        "cases": [],
    }


def run_framework(
    framework: str,
    backends: list[str],
    bench: Bench,
    template: Path,
    report: dict[str, Any],
    provider: Provider | None,
) -> Provider | None:
    """Every case of one framework, beside one bare app of it (started with the first
    project baked, in its env); returns the OIDC provider, started with the run's first
    project."""
    bare: Server | None = None
    for backend in backends:
        case = Case(framework, backend)
        case.result.update(framework=framework, backend=backend)
        report["cases"].append(case.result)
        print(f"== {case.name}", flush=True)
        try:
            project = bake(framework, backend, bench.workdir / "projects", template)
            uv_sync(project, bench.workdir / f"{case.name}-setup.log")
            provider = provider or start_provider(bench.processes, project, bench.workdir)
            if bare is None:
                bare = start_bare(bench.processes, framework, project, bench.workdir)
                report.setdefault("bare_commands", {})[framework] = shlex.join(bare.argv)
        except (BenchmarkError, OSError, subprocess.SubprocessError) as error:
            case.result.update(status="failed", error=str(error)[-3000:])
        except Exception as error:  # a bake that the template refuses
            case.result.update(status="failed", error=f"{type(error).__name__}: {error}")
        else:
            run_case(case, bench, provider, project, bare)
        print_case(case.result)
    if bare is not None:
        bench.processes.stop(bare.process)
    return provider


def write_report(report: dict[str, Any], output: Path, to_readme: bool) -> None:
    """The JSON file, the tables on stdout and, if asked, in the README."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(report["cases"]))
    print()
    print(budgets_table(report["cases"]))
    print()
    print(details(report["cases"]))
    print(f"\nJSON: {output}")
    if to_readme:
        update_readme(report)
        print(f"table written to {README}")


@contextmanager
def work_directory(keep: bool) -> Iterator[Path]:
    """A temporary folder for the baked projects and the logs, removed unless `keep`."""
    workdir = Path(tempfile.mkdtemp(prefix="logto-bench-"))
    try:
        yield workdir
    finally:
        if keep:
            print(f"projects and logs kept in {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    sys.exit(main())
