"""Reporting: the progress lines of each case, the tables printed at the end (and put between
the README's markers by `--update-readme`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from config import CONNECTIONS, README, TABLE_END, TABLE_START


def ratio_cell(section: dict[str, Any]) -> str:
    cpu = section.get("cpu_ratio")
    cell = f"{section['requests_per_second']:.0f} ({section['ratio']:.2f}"
    cell += f"; CPU {cpu:.2f})" if cpu is not None else ")"
    return f"{cell} {judged(section)}"


def judged(section: dict[str, Any]) -> str:
    """A ratio against its budget: `≥ 0.80 ok`, `MISS by 0.05 (budget 0.80)`, or, for a
    store outside the process without a budget, its gap to the floor."""
    if section["budget"] is None:
        if (gap := section.get("gap_to_floor")) is not None:
            return f"{gap:.2f} below its floor (reported)"
        return "report only"
    budget = f"{section['budget']:.2f}"
    if (margin := section.get("floor_margin")) is not None:
        budget += f" = floor − {margin:.2f}"
    if section["meets"]:
        return f"≥ {budget} ok"
    return f"MISS by {section['missed_by']:.2f} (budget {budget})"


def budgets_table(results: list[dict[str, Any]]) -> str:
    """Each case against issue 15's budgets, met or missed."""
    rows = [
        "| case | anonymous `/` over bare | signed-in `/` over bare | the signed-in budget |",
        "|---|---|---|---|",
    ]
    for result in results:
        if result.get("status") != "ok":
            continue
        anonymous, signed = result["anonymous"], result["signed_in"]
        floor = f"the floor ({result['one_read']['ratio']:.2f})" if "one_read" in result else ""
        if signed.get("floor_margin") is not None:
            rule = f"within {signed['floor_margin']:.2f} of {floor}"
        elif signed["budget"] is not None:
            rule = f"≥ {signed['budget']:.2f}"
        else:
            rule = f"none: the gap to {floor} is reported"
        rows.append(
            f"| {result['framework']} {result['backend']} "
            f"| {anonymous['ratio']:.2f}: {met(anonymous)} | {signed['ratio']:.2f}: {met(signed)} "
            f"| {rule} |"
        )
    return "\n".join(rows)


def met(section: dict[str, Any]) -> str:
    if section["budget"] is None:
        gap = section.get("gap_to_floor")
        return "reported" if gap is None else f"{gap:.2f} below the floor"
    if section["meets"]:
        return "met"
    return f"**missed** by {section['missed_by']:.2f}"


def traffic_cell(traffic: dict[str, Any]) -> str:
    reads, writes = traffic["store_reads_per_request"], traffic["store_writes_per_request"]
    cookies = traffic["responses_setting_a_cookie"] / traffic["requests"]
    store = "n/a (in-process)" if reads is None else f"{reads:.2f} r / {writes:.2f} w"
    return f"{store}; Set-Cookie on {cookies:.0%}"


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| case | bare `/` req/s | anonymous `/` req/s (ratio; CPU ratio) "
        "| signed-in `/` req/s (ratio; CPU ratio) "
        "| signed-in p50 / p99 ms | `/profile` req/s (ratio) | store per signed-in `/` "
        "| anonymous: Set-Cookie, store access, sessions stored, RSS Δ (checks) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        name = f"{result['framework']} {result['backend']}"
        if result.get("status") != "ok":
            error = (result.get("error") or "").strip().splitlines()
            reason = error[0][:120].replace("|", "/") if error else "?"
            rows.append(f"| {name} | failed: {reason} | | | | | | |")
            continue
        signed = result["signed_in"]
        checks = result["anonymous"]["checks"]
        memory = result["anonymous_memory"]
        sessions = "n/a" if checks["sessions_stored"] is None else checks["sessions_stored"]
        store_access = {None: "n/a", True: "YES", False: "none"}[checks["store_access"]]
        page = result.get("profile_page")
        page_cell = f"{page['requests_per_second']:.0f} ({page['ratio']:.2f})" if page else "–"
        rows.append(
            f"| {name} | {result['bare']['requests_per_second']:.0f} "
            f"| {ratio_cell(result['anonymous'])} | {ratio_cell(signed)} "
            f"| {signed['p50_ms']:.1f} / {signed['p99_ms']:.1f} | {page_cell} "
            f"| {traffic_cell(result['store_traffic']['signed_in'])} "
            f"| {'YES' if checks['sets_cookie'] else 'no'}, {store_access}, {sessions} "
            f"after {memory['requests']}, {memory['rss_kib_growth']:+d} KiB "
            f"({'ok' if checks['hold'] else 'FAIL'}) |"
        )
    return "\n".join(rows)


def details(results: list[dict[str, Any]]) -> str:
    """Provider and store traffic in full: what the ratios come from."""
    rows = [
        "| case | provider requests over the sign-ins (fresh process) "
        "| store commands over the counted signed-in `/` requests | provider per signed-in `/` |",
        "|---|---|---|---|",
    ]
    for result in results:
        if result.get("status") != "ok":
            continue
        sign_ins = result["provider_per_sign_in"]
        provider = ", ".join(f"{kind} {n}" for kind, n in sorted(sign_ins["requests"].items()))
        traffic = result["store_traffic"]["signed_in"]
        commands = traffic["store_commands"]
        if commands is None:
            store = "n/a (in-process)"
        else:
            store = ", ".join(f"{name} {n}" for name, n in sorted(commands.items()) if n)
        per_page = sum(traffic["provider_requests"].values()) / traffic["requests"]
        rows.append(
            f"| {result['framework']} {result['backend']} | {sign_ins['sign_ins']} sign-ins: "
            f"{provider} | {traffic['requests']} requests: {store} | {per_page:.2f} |"
        )
    return "\n".join(rows + one_read_rows(results) + memory_bound_rows(results))


def memory_bound_rows(results: list[dict[str, Any]]) -> list[str]:
    """The memory store under many sign-ins: what stays signed in, and the worker's RSS."""
    header = (
        "| case | sign-ins, store bound (`SESSION_MEMORY_MAX_ENTRIES`) | still signed in "
        "| newest kept, oldest evicted | worker RSS after 0 / ¼ / ½ / ¾ / all sign-ins |"
    )
    return table_of(results, "memory_bound", header, 5, memory_bound_row)


def memory_bound_row(result: dict[str, Any]) -> str:
    check = result["memory_bound"]
    rss = " / ".join(f"{kib / 1024:.1f}" for kib in check["rss_kib_after_sign_ins"].values())
    return (
        f"| {result['framework']} {result['backend']} | {check['sign_ins']}, "
        f"{check['bound']} | {check['still_signed_in']} "
        f"| {'yes' if check['newest_kept'] else 'NO'}, "
        f"{'yes' if check['oldest_evicted'] else 'NO'} ({'ok' if check['hold'] else 'FAIL'}) "
        f"| {rss} MiB |"
    )


def extra_time(ratio: float) -> float:
    """What a page of this ratio takes beyond the bare page, in bare pages' time."""
    return 1 / ratio - 1


def one_read_rows(results: list[dict[str, Any]]) -> list[str]:
    """The floor of each case with a store outside the process: what one read of the
    session's record costs the bare app, next to the signed-in page and the budget."""
    header = (
        "| case | bare + one read of the session's record (`/one-read`): the read, req/s "
        "(ratio; CPU ratio) | time beyond the bare page, in bare pages: one read "
        "/ the signed-in page / the budget allows |"
    )
    return table_of(results, "one_read", header, 3, one_read_row)


def one_read_row(result: dict[str, Any]) -> str:
    floor, signed = result["one_read"], result["signed_in"]
    cpu = floor.get("cpu_ratio")
    budget = signed["budget"]
    # Redis: the floor's ratio − 0.12, which a floor of 0.12 or less leaves at nothing.
    allowed = "–" if budget is None or budget <= 0 else f"{extra_time(budget):.2f}"
    return (
        f"| {result['framework']} {result['backend']} "
        f"| {floor['read']}: {floor['requests_per_second']:.0f} ({floor['ratio']:.2f}"
        f"{f'; CPU {cpu:.2f}' if cpu is not None else ''}), "
        f"{floor['record_bytes']} bytes read "
        f"| {extra_time(floor['ratio']):.2f} / {extra_time(signed['ratio']):.2f} "
        f"/ {allowed} |"
    )


def table_of(
    results: list[dict[str, Any]],
    key: str,
    header: str,
    columns: int,
    row: Callable[[dict[str, Any]], str],
) -> list[str]:
    """A table of the cases whose result has `key`, after a blank line; none if no case has."""
    found = [result for result in results if key in result]
    if not found:
        return []
    return ["", header, "|---" * columns + "|", *map(row, found)]


def update_readme(report: dict[str, Any]) -> None:
    text = README.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{README} has no {TABLE_START} … {TABLE_END} markers")
    settings = report["settings"]
    block = (
        f"{TABLE_START}\n"
        f"Run of {report['finished_at']}, template at {report['template']['head']} "
        f"({report['template']['source']}) ({report['mode']}: {settings['seconds']:g} s × "
        f"{settings['rounds']} interleaved rounds per target, wrk -t1 -c{CONNECTIONS}; "
        f"load average before the run {report['machine']['load_average_before']}). "
        f"{report['note']}\n\n{table(report['cases'])}\n\n{budgets_table(report['cases'])}\n\n"
        f"{details(report['cases'])}\n{TABLE_END}"
    )
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    README.write_text(text[:start] + block + text[end:])


def print_case(result: dict[str, Any]) -> None:
    if result.get("status") != "ok":
        print(f"   failed: {result.get('error', '')[-1500:]}", flush=True)
        return
    if "store_cpu" in result:
        print(f"   store      {result['store_cpu']}", flush=True)
    for target in ("bare", "anonymous", "signed_in", "one_read"):
        if (section := result.get(target)) is None:
            continue
        ratio = f" ratio {section['ratio']:.2f}" if "ratio" in section else ""
        print(
            f"   {target:<10} {section['requests_per_second']:>8.0f} req/s{ratio}"
            f"  p50 {section['p50_ms']:.1f} ms  p99 {section['p99_ms']:.1f} ms",
            flush=True,
        )
