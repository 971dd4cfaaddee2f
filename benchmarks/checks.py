"""What the issue's rules say of a case, checked from outside the app: store and provider
traffic per request, anonymous requests that store nothing, and the memory store's bound
under many real sign-ins."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from apps import Server
from config import MEMORY_STORE_NOTE, BenchmarkError
from load import fixed_requests
from processes import http_client, rss_kib, tail
from signin import Provider, provider_kind, sign_in, signed_in_with
from stores import Store


def count_requests(
    store: Store, provider: Provider, url: str, cookie: str | None, requests: int
) -> dict[str, Any]:
    """Store and provider traffic of `requests` sequential requests, per request."""
    provider_before = len(provider.requests())
    headers = {"Cookie": cookie} if cookie else {}
    statuses: Counter[int] = Counter()
    set_cookies = 0
    with store.counting() as traffic, http_client() as client:
        for _ in range(requests):
            response = client.get(url, headers=headers)
            client.cookies.clear()
            statuses[response.status_code] += 1
            set_cookies += "set-cookie" in response.headers
    provider_paths = provider.requests()[provider_before:]
    per_request = {
        "requests": requests,
        "statuses": {str(code): n for code, n in statuses.items()},
        "responses_setting_a_cookie": set_cookies,
        "provider_requests": dict(Counter(provider_kind(path) for path in provider_paths)),
        "store_method": traffic["method"],
        "store_commands": traffic["commands"],
    }
    for kind in ("reads", "writes"):
        total = traffic[kind]
        per_request[f"store_{kind}_per_request"] = None if total is None else total / requests
    return per_request


def anonymous_memory_check(server: Server, store: Store, requests: int) -> dict[str, Any]:
    """`requests` anonymous requests: sessions stored and the worker's RSS before and after."""
    pid = server.worker_pid
    sessions_before, rss_before = store.session_count(), rss_kib(pid)
    sent = fixed_requests(server.url + "/", requests)
    sessions_after, rss_after = store.session_count(), rss_kib(pid)
    if server.worker_pid != pid:
        raise BenchmarkError(
            f"the worker was replaced during the anonymous requests:\n{tail(server.log)}"
        )
    return sent | {
        "sessions_before": sessions_before,
        "sessions_after": sessions_after,
        "sessions_note": None if sessions_after is not None else MEMORY_STORE_NOTE,
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_after,
        "rss_kib_growth": rss_after - rss_before,
        "sets_cookie": bool(sent["responses_setting_a_cookie"]),
    }


def memory_bound_check(
    server: Server, provider: Provider, sign_ins: int, bound: int, threads: int = 8
) -> dict[str, Any]:
    """`sign_ins` real sign-ins against a memory store that keeps `bound` sessions: how many
    stay signed in (at most `bound`, and the newest), and the worker's RSS as they pile up."""
    pid = server.worker_pid
    cookies: list[str] = []  # in the order the sign-ins started, 8 at a time
    rss_kib_after: dict[str, int] = {"0": rss_kib(pid)}
    started = time.monotonic()
    quarters = [round(sign_ins * share / 4) for share in range(5)]
    with ThreadPoolExecutor(threads) as pool:
        for done_before, done_after in itertools.pairwise(quarters):
            batch = range(done_after - done_before)
            # Unchecked: in a full store, other sign-ins may evict a session at once.
            cookies += pool.map(lambda _: sign_in(server.public_url, provider, check=False), batch)
            rss_kib_after[str(done_after)] = rss_kib(pid)
    seconds = time.monotonic() - started
    if server.worker_pid != pid:
        raise BenchmarkError(f"the worker was replaced during the sign-ins:\n{tail(server.log)}")
    signed_in = [signed_in_with(server.public_url, cookie) for cookie in cookies]
    # The newest and oldest sign-ins to look at. Django's store also holds the session
    # index, whose records count against the bound: a tenth is safe.
    sample = min(bound // 10, 50)
    newest_kept = all(signed_in[-sample:])
    oldest_evicted = not any(signed_in[:sample])
    still_signed_in = sum(signed_in)
    return {
        "sign_ins": len(cookies),
        "bound": bound,
        "sign_ins_per_second": round(len(cookies) / seconds, 1),
        "still_signed_in": still_signed_in,
        "newest_kept": newest_kept,
        "oldest_evicted": oldest_evicted,
        "rss_kib_after_sign_ins": rss_kib_after,
        "hold": still_signed_in <= bound and newest_kept and oldest_evicted,
    }


def anonymous_checks(result: dict[str, Any]) -> dict[str, Any]:
    """Anonymous `/`: no cookie, no store access, no session stored."""
    memory = result["anonymous_memory"]
    traffic = result["store_traffic"]["anonymous"]
    store_access = None
    if traffic["store_reads_per_request"] is not None:
        store_access = bool(
            traffic["store_reads_per_request"] or traffic["store_writes_per_request"]
        )
    sets_cookie = memory["sets_cookie"] or bool(traffic["responses_setting_a_cookie"])
    sessions = memory["sessions_after"]
    return {
        "sets_cookie": sets_cookie,
        "store_access": store_access,
        "sessions_stored": sessions,
        "hold": not sets_cookie and store_access is not True and not sessions,
    }
