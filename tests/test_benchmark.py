"""The benchmark (benchmarks/run.py) still runs: a --quick run completes and writes its JSON.

No budget and no timing is asserted here: on a shared machine the figures are noise. Deselect
with `-m "not benchmark"` (or `-k "not benchmark"`).
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import TEMPLATE

pytestmark = pytest.mark.benchmark

LOAD_FIELDS = {"requests_per_second", "p50_ms", "p99_ms", "requests", "bad_responses", "rounds"}
VERDICT_FIELDS = {"ratio", "budget", "meets", "missed_by"}


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)
def test_quick_run_measures_every_framework_served_as_in_production(tmp_path: Path) -> None:
    output = tmp_path / "quick.json"
    result = subprocess.run(
        [
            sys.executable,
            str(TEMPLATE / "benchmarks" / "run.py"),
            "--quick",
            "--output",
            str(output),
        ],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert output.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["mode"] == "quick"
    assert {"started_at", "finished_at", "settings", "machine", "budgets"} <= set(report)
    cases = report["cases"]
    assert [(case["framework"], case["backend"]) for case in cases] == [
        ("flask", "memory"),
        ("fastapi", "memory"),
        ("django", "memory"),
    ]
    for case in cases:
        assert case["status"] == "ok", case.get("error")
        check_memory_case(case, report["settings"])
        assert f"| {case['framework']} memory |" in result.stdout  # the tables
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "| case | anonymous `/` over bare | signed-in `/` over bare |" in result.stdout


def check_memory_case(case: dict, settings: dict) -> None:
    """What a memory case's JSON holds, served as in production."""
    assert case["served_as"]["APP_ENV"] == "production"
    assert case["served_as"]["BASE_URL"].startswith("https://127.0.0.1:")
    assert set(case["bare"]) >= LOAD_FIELDS
    for target in ("anonymous", "signed_in"):
        assert set(case[target]) >= LOAD_FIELDS | VERDICT_FIELDS
        assert case[target]["requests"] > 0
        assert case[target]["bad_responses"] == 0
    assert set(case["anonymous"]["checks"]) == {
        "sets_cookie",
        "store_access",
        "sessions_stored",
        "hold",
    }
    assert case["anonymous_memory"]["requests"] == settings["anonymous_requests"]
    assert case["anonymous_memory"]["statuses"] == {"200": settings["anonymous_requests"]}
    assert {"rss_kib_before", "rss_kib_after", "sessions_after"} <= set(case["anonymous_memory"])
    assert case["provider_per_sign_in"]["requests"]["token"] >= 1
    for route in ("anonymous", "signed_in"):
        traffic = case["store_traffic"][route]
        assert {"store_reads_per_request", "store_writes_per_request", "store_method"} <= set(
            traffic
        )
    assert case["signed_in"]["budget"] is not None  # memory sessions have one
    bounded = case["memory_bound"]
    assert bounded["sign_ins"] == settings["bounded_sign_ins"]
    assert bounded["still_signed_in"] <= bounded["bound"] == settings["memory_bound"]
    assert bounded["newest_kept"] and bounded["oldest_evicted"], bounded


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)
def test_every_case_with_a_store_outside_the_process_measures_the_floor_of_one_read(
    tmp_path: Path,
) -> None:
    # The shared bare app is started in the first project's env (SQL only): each floor is
    # served in its own project's env, with that store's driver.
    output = tmp_path / "quick-floors.json"
    argv = [sys.executable, str(TEMPLATE / "benchmarks" / "run.py"), "--quick",
            "--frameworks", "flask", "--backends", "database,mongodb,redis",
            "--output", str(output)]  # fmt: skip
    result = subprocess.run(
        argv, cwd=TEMPLATE, capture_output=True, text=True, timeout=420, check=False
    )
    assert output.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    cases = json.loads(output.read_text())["cases"]
    reads = {"database": "one SQL SELECT", "mongodb": "one MongoDB find", "redis": "one Redis GET"}
    assert [case["backend"] for case in cases] == list(reads)
    floors = result.stdout.split("bare + one read of the session's record")[1]
    for case in cases:
        assert case["status"] == "ok", case.get("error")
        floor = case["one_read"]
        assert floor["requests"] > 0 and floor["bad_responses"] == 0
        assert floor["read"] == reads[case["backend"]]
        assert floor["ratio"] > 0 and floor["record_bytes"] > 1000  # a signed-in session's
        assert f"| flask {case['backend']} | {floor['read']}: " in floors  # the floor's table
        signed_in = case["signed_in"]
        assert signed_in["gap_to_floor"] == pytest.approx(
            floor["ratio"] - signed_in["ratio"], abs=2e-3
        )
        if case["backend"] == "redis":  # within 0.12 of its floor
            assert signed_in["budget"] == pytest.approx(floor["ratio"] - 0.12, abs=2e-3)
        else:  # MongoDB, SQL: the gap is reported
            assert signed_in["budget"] is None


@pytest.fixture
def benchmark_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The benchmark's modules importable by name, as run.py imports them, for one test."""
    monkeypatch.syspath_prepend(str(TEMPLATE / "benchmarks"))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:  # `config` and the like are not this repo's
        del sys.modules[name]


@pytest.mark.usefixtures("benchmark_modules")
def test_a_store_server_runs_beside_the_app_for_a_case_and_gets_its_cpus_back() -> None:
    redis_store = importlib.import_module("redis_store")
    # A stand-in for the machine's Redis: a running process with threads of its own.
    code = "import threading, time; threading.Thread(target=time.sleep, args=(60,)).start()"
    server = subprocess.Popen([sys.executable, "-c", code])
    try:
        tasks = Path(f"/proc/{server.pid}/task")
        deadline = time.monotonic() + 10
        while len(os.listdir(tasks)) < 2:  # until its second thread has started
            assert time.monotonic() < deadline, "the stand-in server did not start its thread"
            time.sleep(0.01)
        before = {int(task): os.sched_getaffinity(int(task)) for task in os.listdir(tasks)}
        with redis_store.pinned_beside_the_app(server.pid) as done:
            assert done == f"pinned to CPU {redis_store.APP_CPU} with the app"
            for task in before:
                assert os.sched_getaffinity(task) == {int(redis_store.APP_CPU)}
        assert {task: os.sched_getaffinity(task) for task in before} == before
    finally:
        server.kill()
        server.wait()
    with redis_store.pinned_beside_the_app(None) as done:
        assert done.startswith("not pinned")


@pytest.mark.usefixtures("benchmark_modules")
def test_instruction_counts_are_read_from_callgrinds_dumps_in_order(tmp_path: Path) -> None:
    instructions = importlib.import_module("instructions")
    out = tmp_path / "app"
    for part, count in ((1, 900), (2, 500), (3, 700), (10, 100)):  # start-up, then targets
        (tmp_path / f"app.{part}").write_text(f"version: 1\nsummary: {count}\ntotals: {count}\n")
    (tmp_path / "app").write_text("summary: 5\n")  # at exit, not a dump of a phase
    assert instructions.parts(out) == [900, 500, 700, 100]
