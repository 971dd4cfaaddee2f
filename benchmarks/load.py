"""Load generation: wrk runs (req/s, latency, the serving process's CPU time), interleaved
rounds of targets, their medians and paired ratios, and the fixed number of plain requests
that the anonymous memory check sends."""

from __future__ import annotations

import re
import socket
import statistics
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

from config import CONNECTIONS, FORWARDED, LOAD_CPU, SETTLE_SECONDS, BenchmarkError
from processes import cpu_seconds, http_client


class Target(NamedTuple):
    """A page to load: its URL, the Cookie header to send, the process that serves it."""

    url: str
    cookie: str | None
    pid: int


@dataclass
class Load:
    """What one wrk run measured."""

    requests_per_second: float
    requests: int
    p50_ms: float
    p99_ms: float
    bad_responses: int  # non-2xx/3xx and socket errors
    cpu_ms_per_request: float | None  # the serving process's CPU time (user + system)


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if not match:
        raise BenchmarkError(f"no {percentile}% latency in wrk's output:\n{output}")
    return round(float(match[1]) * WRK_UNITS[match[2]], 3)


def wrk(url: str, seconds: float, cookie: str | None = None, pid: int | None = None) -> Load:
    argv = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s",
            "--latency", "--timeout", "10s"]  # fmt: skip
    for name, value in FORWARDED.items():  # as behind the TLS proxy (config.FORWARDED)
        argv += ["-H", f"{name}: {value}"]
    if cookie:
        argv += ["-H", f"Cookie: {cookie}"]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    result = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    # A server still answers the requests queued when wrk stopped (gunicorn's sync worker has
    # up to -c of them in its backlog): let it finish, so they count towards nothing else.
    time.sleep(SETTLE_SECONDS)
    cpu = cpu_seconds(pid) - cpu_before if pid else None
    output = result.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    if result.returncode != 0 or not rate or not count:
        raise BenchmarkError(f"wrk failed on {url}:\n{output}{result.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    # gunicorn's sync worker closes every connection, which wrk counts as read errors.
    socket_errors = int(errors[1]) + int(errors[3]) + int(errors[4]) if errors else 0
    return Load(
        requests_per_second=float(rate[1]),
        requests=int(count[1]),
        p50_ms=wrk_latency(output, "50"),
        p99_ms=wrk_latency(output, "99"),
        bad_responses=(int(bad[1]) if bad else 0) + socket_errors,
        cpu_ms_per_request=None if cpu is None else round(cpu * 1000 / max(int(count[1]), 1), 3),
    )


def interleaved_rounds(
    targets: dict[str, Target], seconds: float, rounds: int, warm_up_seconds: int
) -> dict[str, list[Load]]:
    """After a warm-up of each target (not counted), `rounds` rounds of `seconds` of load on
    each target in turn (bare, app, bare, app...), so that a change in the machine's speed
    hits every target alike."""
    for target in targets.values():
        warm_up(target)
        if warm_up_seconds:
            wrk(target.url, warm_up_seconds, cookie=target.cookie)
    loads: dict[str, list[Load]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, target in targets.items():
            loads[name].append(wrk(target.url, seconds, cookie=target.cookie, pid=target.pid))
    return loads


def warm_up(target: Target, requests: int = 100) -> None:
    """`requests` sequential requests to `target`, each of which must answer 200: wrk
    counts a redirect as a success."""
    headers = FORWARDED | ({"Cookie": target.cookie} if target.cookie else {})
    with http_client() as client:
        for _ in range(requests):
            if (status := client.get(target.url, headers=headers).status_code) != 200:
                raise BenchmarkError(f"{target.url} answered {status}, not 200")


def summarize(loads: list[Load]) -> dict[str, Any]:
    return {
        "requests_per_second": round(statistics.median(x.requests_per_second for x in loads), 1),
        "p50_ms": round(statistics.median(x.p50_ms for x in loads), 3),
        "p99_ms": round(statistics.median(x.p99_ms for x in loads), 3),
        "requests": sum(x.requests for x in loads),
        "bad_responses": sum(x.bad_responses for x in loads),
        "rounds": [x.requests_per_second for x in loads],
        "cpu_ms_per_request": median_or_none([x.cpu_ms_per_request for x in loads]),
    }


def paired_ratio(app: list[Load], bare: list[Load]) -> float:
    """The median over the rounds of the app's req/s over the bare app's in the same round.

    A round's targets run seconds apart: when the machine's speed drifts (a shared host),
    each round's ratio still compares like with like, where the medians of the two
    targets' rounds may come from different moments.
    """
    return statistics.median(
        mine.requests_per_second / theirs.requests_per_second
        for mine, theirs in zip(app, bare, strict=True)
    )


def median_or_none(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(statistics.median(known), 3) if known else None


def cpu_ratio(bare: dict[str, Any], app: dict[str, Any]) -> float | None:
    """The bare app's CPU time per request over the app's: what the req/s ratio would be
    on an idle CPU, and much steadier than it on a busy machine."""
    if not bare["cpu_ms_per_request"] or not app["cpu_ms_per_request"]:
        return None
    return round(bare["cpu_ms_per_request"] / app["cpu_ms_per_request"], 3)


def verdict(ratio: float, budget: float | None) -> dict[str, Any]:
    if budget is None:
        return {"ratio": round(ratio, 3), "budget": None, "meets": None, "missed_by": None}
    meets = ratio >= budget
    return {
        "ratio": round(ratio, 3),
        "budget": round(budget, 3),
        "meets": meets,
        "missed_by": None if meets else round(budget - ratio, 3),
    }


def raw_get(host: str, port: int, path: str) -> tuple[int, bool]:
    """One GET on its own connection, as lean as a client gets: (status, set a cookie?)."""
    forwarded = "".join(f"{name}: {value}\r\n" for name, value in FORWARDED.items())
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{forwarded}Connection: close\r\n\r\n"
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(request.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head = b"".join(chunks).split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head.split(" ", 2)[1])
    return status, bool(re.search(r"^set-cookie:", head, re.IGNORECASE | re.MULTILINE))


def fixed_requests(url: str, count: int, concurrency: int = 8) -> dict[str, Any]:
    """Exactly `count` GETs of `url` from `concurrency` threads (wrk only runs for a time)."""
    match = re.match(r"http://([^:/]+):(\d+)(/.*)$", url)
    if not match:
        raise BenchmarkError(f"not a plain http URL: {url}")
    host, port, path = match[1], int(match[2]), match[3]
    statuses: Counter[int] = Counter()
    cookies = 0
    lock = threading.Lock()
    left = iter(range(count))

    def client() -> None:
        nonlocal cookies
        for _ in left:
            status, set_cookie = raw_get(host, port, path)
            with lock:
                statuses[status] += 1
                cookies += set_cookie

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "requests": sum(statuses.values()),
        "seconds": round(time.monotonic() - started, 2),
        "statuses": {str(code): n for code, n in statuses.items()},
        "responses_setting_a_cookie": cookies,
    }
