"""What every part of the benchmark shares: paths, CPUs, budgets, run modes, its error.

Nothing here does anything; the other modules read it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"  # never `localhost`
BENCHMARKS = Path(__file__).resolve().parent
TEMPLATE = BENCHMARKS.parent
BARE_APPS = BENCHMARKS / "bare"
RESULTS = BENCHMARKS / "results"
README = BENCHMARKS / "README.md"
TABLE_START, TABLE_END = "<!-- results:start -->", "<!-- results:end -->"

FRAMEWORKS = ("flask", "fastapi", "django")
BACKENDS = ("memory", "redis", "mongodb", "database")
# The app and its store on one CPU, the load (wrk, this script) on another; both on the one
# CPU of a one-CPU machine, where the ratios mean less.
APP_CPU, LOAD_CPU = "0", "1" if (os.cpu_count() or 1) > 1 else "0"
CONNECTIONS = 16
SETTLE_SECONDS = 0.25  # after each wrk run (load.wrk): ~16 requests' time, many times over
USER_SUB, USER_NAME = "bench-user", "Bench User"
# Apps are served as in production (APP_ENV=production, an https BASE_URL) on plain http, as
# behind the TLS-ending proxy of a deployment: every request to a served app (the bare apps'
# too) carries what that proxy adds, and the servers trust it from 127.0.0.1 (gunicorn's
# `forwarded_allow_ips`, uvicorn's `--proxy-headers`).
FORWARDED = {"X-Forwarded-Proto": "https"}

# Issue 15's budgets, on the req/s ratio over the bare app (the median of the rounds' ratios).
ANONYMOUS_BUDGET = 0.90  # the anonymous `/`, every framework and backend
SIGNED_IN_BUDGETS: dict[tuple[str, str], float] = {  # the signed-in `/`, memory sessions
    ("flask", "memory"): 0.80,
    ("django", "memory"): 0.80,
    ("fastapi", "memory"): 0.70,
}
# A store outside the process: the signed-in `/` against its floor (the bare app after one
# read of the session's record, `/one-read`). Redis: at most this many ratio points below
# it. MongoDB and SQL: the gap is reported.
FLOOR_MARGINS = {"redis": 0.12}
# The key that the bare apps' `/one-read` GETs: a copy of a signed-in session's record.
ONE_READ_KEY = f"logto-bench-one-read-{secrets.token_hex(4)}"

MEMORY_STORE_NOTE = (
    "not measurable from outside the process; see the app's store (a bounded dict of the app's own)"
)


@dataclass(frozen=True)
class Mode:
    """How much a run measures: `--quick` or the full run."""

    seconds: float  # load per wrk run
    rounds: int  # interleaved rounds (bare, anonymous, signed-in) per case
    warm_up_seconds: int  # a wrk run per target before the rounds (0: none)
    sign_ins: int  # sign-ins counted for provider traffic
    counted_requests: int  # sequential requests counted for store traffic
    anonymous_requests: int  # anonymous requests of the memory check
    profile_page: bool  # also load /profile (calls userinfo) once
    bounded_sign_ins: int  # memory backend: sign-ins against a store bounded to memory_bound
    # SESSION_MEMORY_MAX_ENTRIES for those sign-ins; a tenth of it bounds unfinished sign-ins,
    # which must hold the 8 that run at once (checks.memory_bound_check): at least 80.
    memory_bound: int


QUICK = Mode(seconds=1, rounds=1, warm_up_seconds=0, sign_ins=2, counted_requests=20,
             anonymous_requests=1000, profile_page=False, bounded_sign_ins=200,
             memory_bound=100)  # fmt: skip


# Short runs, many rounds: on a shared (virtual) machine the noise comes in bursts of
# seconds, and a burst then slows one round of each target, not one target's whole load.
FULL = Mode(seconds=2, rounds=8, warm_up_seconds=1, sign_ins=10, counted_requests=200,
            anonymous_requests=10_000, profile_page=True, bounded_sign_ins=10_000,
            memory_bound=1_000)  # fmt: skip


@dataclass(frozen=True)
class RecordCopy:
    """A copy of a signed-in session's record at ONE_READ_KEY, for the bare app's `/one-read`."""

    env: dict[str, str]  # the bare app's BARE_* variables: where to read it, and how
    record_bytes: int
    read: str  # what `/one-read` does, for the report (e.g. "one Redis GET")


class BenchmarkError(Exception):
    """A case could not be measured; the message says why."""
