"""`--profile`: py-spy samples of the app's worker while wrk loads a page, summed by
package and by frame."""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path
from typing import Any

from config import BenchmarkError
from load import wrk


def frame_package(frame: str) -> str:
    """`Flask.wsgi_app (flask/app.py:1511)` -> `flask`; the project's own code by its module."""
    match = re.search(r"\(([^():]+)(?::\d+)?\)$", frame)
    path = match[1] if match else frame
    return path.split("/")[0].removesuffix(".py")


def profile_worker(
    pid: int, url: str, cookie: str | None, seconds: float, out: Path
) -> dict[str, Any]:
    """py-spy (from PyPI, in a throwaway env) on the worker while wrk loads `url`."""
    argv = ["uv", "run", "--isolated", "--no-project", "--with", "py-spy", "py-spy", "record",
            "--pid", str(pid), "--duration", f"{max(1, round(seconds))}", "--rate", "250",
            "--gil", "--format", "raw", "--nonblocking", "--output", str(out)]  # fmt: skip
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # let py-spy attach
    with suppress(BenchmarkError):
        wrk(url, seconds, cookie=cookie)
    _, errors = spy.communicate(timeout=seconds + 120)
    if spy.returncode != 0 or not out.exists():
        return {"error": errors[-1000:]}
    summary = summarize_profile(out.read_text())
    return {"samples": summary["samples"], "raw_profile": str(out)} | summary


def summarize_profile(raw: str) -> dict[str, Any]:
    """py-spy's raw output (`frame;frame;frame count` a line): the share of samples by
    package, by the frame on top, and by every frame on the stack."""
    samples: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [frame for frame in stack.split(";") if frame]
        if not count_text.isdigit() or not frames:
            continue
        count = int(count_text)
        total += count
        samples[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for package in {frame_package(frame) for frame in frames}:
            packages[package] += count
    return {
        "samples": total,
        "by_package": [[name, round(n / total, 3)] for name, n in packages.most_common(25)],
        "top_self": [[frame, round(n / total, 3)] for frame, n in samples.most_common(12)],
        "top_inclusive": [[frame, round(n / total, 3)] for frame, n in inclusive.most_common(40)],
    }
