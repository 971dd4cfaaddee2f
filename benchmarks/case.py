"""One case (a framework × backend): serve the baked app beside its store, measure, clean up.

`run_case` fills the case's result (the JSON's `cases[]` entry) step by step, as
benchmarks/README.md's method lists them; a step that cannot be measured fails the case,
never the run.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
from collections import Counter
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from apps import Server, bind_to, dockerfile_commands, start_bare, start_server
from checks import anonymous_checks, anonymous_memory_check, count_requests, memory_bound_check
from config import (
    ANONYMOUS_BUDGET,
    FLOOR_MARGINS,
    FORWARDED,
    HOST,
    RESULTS,
    SIGNED_IN_BUDGETS,
    BenchmarkError,
    Mode,
    RecordCopy,
)
from load import Target, cpu_ratio, interleaved_rounds, paired_ratio, summarize, verdict, wrk
from processes import Processes, free_port, http_get, plain_env, tail
from profiling import profile_worker
from redis_store import RedisError, RedisStore, pinned_beside_the_app
from signin import Provider, provider_kind, sign_in
from stores import MemoryStore, Store, start_store


@dataclass
class Case:
    """One framework × backend; `result` is its entry of the JSON's `cases`."""

    framework: str
    backend: str
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.framework}-{self.backend}"


@dataclass(frozen=True)
class Bench:
    """What every case of a run shares."""

    mode: Mode
    processes: Processes
    workdir: Path
    redis_url: str
    profile: bool


@dataclass
class AppCommand:
    """The baked project's server command and environment, to start it (again) with."""

    case: Case
    project: Path
    argv: list[str]
    env: dict[str, str]
    port: int

    def start(self, bench: Bench, log_name: str, **extra_env: str) -> Server:
        return start_server(
            bench.processes, f"{self.case.name} app", self.argv, cwd=self.project,
            env=self.env | extra_env, port=self.port,
            log=bench.workdir / f"{self.case.name}-{log_name}.log", ready_path="/healthz",
        )  # fmt: skip


def run_case(case: Case, bench: Bench, provider: Provider, project: Path, bare: Server) -> None:
    """Measure one case into `case.result`; every process it started is stopped after."""
    result = case.result
    prefix = f"logto-bench-{secrets.token_hex(4)}:{case.name}:"
    already_running = set(bench.processes.running)
    store: Store | None = None
    pinning = ExitStack()
    try:
        store, store_env = start_store(
            bench.processes, case.backend, project, bench.workdir, prefix, bench.redis_url
        )
        if isinstance(store, RedisStore):
            result["store_cpu"] = pinning.enter_context(pinned_beside_the_app(store.server_pid()))
        app_command = prepare_app(case, project, provider, prefix, store_env)
        measure(case, bench, provider, app_command, store, bare)
        result["status"] = "ok"
    except (BenchmarkError, httpx.HTTPError, OSError, subprocess.SubprocessError) as error:
        result["status"] = "failed"
        result["error"] = str(error)[-3000:]
    finally:
        pinning.close()
        if store is not None:
            clean_store(store)
        for process in reversed(list(bench.processes.running)):  # the app and its store
            if process not in already_running:
                bench.processes.stop(process)


def prepare_app(
    case: Case, project: Path, provider: Provider, prefix: str, store_env: dict[str, str]
) -> AppCommand:
    """The app's environment and server command, after the Dockerfile's steps before the
    server (e.g. Django's `manage.py migrate`) have run."""
    port = free_port()
    env = plain_env(
        PATH=f"{project / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        APP_ENV="production",
        BASE_URL=f"https://{HOST}:{port}",
        LOGTO_ENDPOINT=provider.endpoint,
        LOGTO_APP_ID="bench-app",
        LOGTO_APP_SECRET="bench-app-secret",
        SESSION_SECRET=secrets.token_urlsafe(48),
        SESSION_KEY_PREFIX=prefix,
        **store_env,
    )
    setup, server = dockerfile_commands(project)
    for step in setup:
        step[0] = str(project / ".venv" / "bin" / step[0])
        done = subprocess.run(step, cwd=project, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchmarkError(f"{shlex.join(step)} failed:\n{done.stderr[-2000:]}")
    argv = bind_to(server, port)
    argv[0] = str(project / ".venv" / "bin" / argv[0])
    return AppCommand(case, project, argv, env, port)


def measure(
    case: Case,
    bench: Bench,
    provider: Provider,
    app_command: AppCommand,
    store: Store,
    bare: Server,
) -> None:
    """Every measurement of a case, in the README's order, on one app process (and a fresh,
    bounded one for the memory backend)."""
    result, mode = case.result, bench.mode
    app = app_command.start(bench, "app")
    result["server_command"] = shlex.join(app.argv)
    result["served_as"] = {name: app_command.env[name] for name in ("APP_ENV", "BASE_URL")}
    result["served_as"]["forwarded"] = FORWARDED
    for _ in range(100):  # warm up: imports, templates, the first store connection
        http_get(app.public_url + "/")
    result["anonymous_memory"] = anonymous_memory_check(app, store, mode.anonymous_requests)
    cookie = counted_sign_ins(case, app, provider, mode.sign_ins)
    result["signed_in_sets_cookie"] = "set-cookie" in http_get(app.public_url + "/", cookie).headers
    floor = store_floor(case, bench, app_command.project, store)
    load_targets(case, bench, app, cookie, bare, floor)
    result["store_traffic"] = {
        route: count_requests(
            store, provider, app.public_url + "/", route_cookie, mode.counted_requests
        )
        for route, route_cookie in (("anonymous", None), ("signed_in", cookie))
    }
    result["anonymous"]["checks"] = anonymous_checks(result)
    if bench.profile:
        result["profile"] = profiles(case, app, cookie, max(mode.seconds, 5))
    if case.backend == "memory":
        bench.processes.stop(app.process)
        result["memory_bound"] = bounded_memory_check(bench, provider, app_command)


def profiles(case: Case, app: Server, cookie: str, seconds: float) -> dict[str, Any]:
    """py-spy on the worker while the anonymous and the signed-in `/` are loaded."""
    return {
        route: profile_worker(
            app.worker_pid,
            app.url + "/",
            route_cookie,
            seconds,
            RESULTS / f"profile-{case.name}-{route}.txt",
        )
        for route, route_cookie in (("anonymous", None), ("signed_in", cookie))
    }


def bounded_memory_check(
    bench: Bench, provider: Provider, app_command: AppCommand
) -> dict[str, Any]:
    """Many sign-ins on a fresh process whose store holds fewer sessions than there will be
    sign-ins."""
    bound = bench.mode.memory_bound
    app = app_command.start(bench, "bounded-app", SESSION_MEMORY_MAX_ENTRIES=str(bound))
    return memory_bound_check(app, provider, bench.mode.bounded_sign_ins, bound)


def counted_sign_ins(case: Case, app: Server, provider: Provider, sign_ins: int) -> str:
    """`sign_ins` sign-ins, the provider's requests over them counted; returns the first
    sign-in's Cookie header (checked to show the user on `/`)."""
    provider_before = len(provider.requests())
    cookie = sign_in(app.public_url, provider)
    for _ in range(sign_ins - 1):
        sign_in(app.public_url, provider)
    paths = provider.requests()[provider_before:]
    case.result["provider_per_sign_in"] = {
        "sign_ins": sign_ins,
        "note": "the first sign-in of a fresh app process; `authorize` is the browser's form",
        "requests": dict(Counter(provider_kind(path) for path in paths)),
    }
    return cookie


def load_targets(
    case: Case, bench: Bench, app: Server, cookie: str, bare: Server, floor: Floor | None
) -> None:
    """Load the bare `/`, the anonymous and the signed-in `/` (and the floor, if any) in
    interleaved rounds; put each target's figures and ratios into the result."""
    result, mode = case.result, bench.mode
    targets = {
        "bare": Target(bare.url + "/", None, bare.worker_pid),
        "anonymous": Target(app.url + "/", None, app.worker_pid),
        "signed_in": Target(app.url + "/", cookie, app.worker_pid),
    }
    if floor is not None:
        targets["one_read"] = floor.target
    loads = interleaved_rounds(targets, mode.seconds, mode.rounds, mode.warm_up_seconds)
    summaries = {target: summarize(runs) for target, runs in loads.items()}
    ratios = {target: paired_ratio(runs, loads["bare"]) for target, runs in loads.items()}
    result["bare"] = summaries["bare"]
    result["anonymous"] = summaries["anonymous"] | verdict(ratios["anonymous"], ANONYMOUS_BUDGET)
    budget = SIGNED_IN_BUDGETS.get((case.framework, case.backend))
    if floor is not None:
        result["one_read"] = summaries["one_read"] | floor.details(ratios["one_read"])
        if (margin := FLOOR_MARGINS.get(case.backend)) is not None:
            budget = ratios["one_read"] - margin
    result["signed_in"] = summaries["signed_in"] | verdict(ratios["signed_in"], budget)
    if floor is not None:
        result["signed_in"] |= {
            "gap_to_floor": round(ratios["one_read"] - ratios["signed_in"], 3),
            "floor_margin": FLOOR_MARGINS.get(case.backend),
        }
    bare_rate = summaries["bare"]["requests_per_second"]
    for target in ("anonymous", "signed_in", "one_read"):
        if target in result:
            result[target]["cpu_ratio"] = cpu_ratio(summaries["bare"], summaries[target])
            result[target]["ratio_of_medians"] = round(
                summaries[target]["requests_per_second"] / bare_rate, 3
            )
    if mode.profile_page:
        result["profile_page"] = profile_page(app, cookie, mode.seconds, bare_rate)


def profile_page(app: Server, cookie: str, seconds: float, bare_rate: float) -> dict[str, Any]:
    """`/profile`, loaded once: every request calls the provider's userinfo."""
    page = summarize([wrk(app.url + "/profile", seconds, cookie=cookie)])
    return page | {
        "ratio": round(page["requests_per_second"] / bare_rate, 3),
        "note": "one run; every request calls the provider's userinfo",
    }


@dataclass(frozen=True)
class Floor:
    """The bare app's `/one-read`: the same page after one read of a copy of the signed-in
    session's record, through the store's driver as the project reads it."""

    target: Target
    record: RecordCopy
    note: str

    def details(self, ratio: float) -> dict[str, Any]:
        """What the report says of the floor beside its load figures."""
        return {
            "ratio": round(ratio, 3),
            "record_bytes": self.record.record_bytes,
            "read": self.record.read,
            "note": self.note,
        }


def store_floor(case: Case, bench: Bench, project: Path, store: Store) -> Floor | None:
    """The floor of a store outside the process, served by a bare app in this project's
    env (the shared bare app's may have no client for this store)."""
    if isinstance(store, MemoryStore):
        return None
    record = store.copy_signed_in_record()
    server = start_bare(bench.processes, case.framework, project, bench.workdir, record)
    if (status := http_get(server.public_url + "/one-read").status_code) != 200:
        log = tail(server.log)
        raise BenchmarkError(f"the bare app's /one-read answered {status}:\n{log}")
    note = (
        f"the bare app after {record.read} of a copy of a signed-in session's record, through "
        f"the driver the project's sessions use: the floor for a page whose session lives in "
        f"{store.kind}"
    )
    return Floor(Target(server.url + "/one-read", None, server.worker_pid), record, note)


def clean_store(store: Store) -> None:
    """Delete this case's records (and the floor's copy) from a store that outlives it."""
    with suppress(BenchmarkError, OSError, RedisError):
        store.clean()
