"""The processes this run starts (each in its own process group, all stopped at the end) and
the plain means of looking at them: free ports, their environment and logs, `/proc`, and an
HTTP client for 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx

from config import FORWARDED, HOST, BenchmarkError


class Processes:
    """Every process this run starts, each in its own process group; all are stopped."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[str]] = []

    def start(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        log: Path,
        stdout_pipe: bool = False,
    ) -> subprocess.Popen[str]:
        with log.open("a") as out:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if stdout_pipe else out,
                stderr=out,
                text=True,
                start_new_session=True,  # its own process group, stopped as a whole
            )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[str]) -> None:
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        if process.stdout is not None:
            process.stdout.close()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def plain_env(**extra: str) -> dict[str, str]:
    """The environment of a project's process: outside this repo's virtualenv."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.update(extra)
    return env


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchmarkError(f"no VmRSS for pid {pid}")


def serving_pid(pid: int) -> int:
    """The process that serves requests: gunicorn's one worker, or uvicorn itself."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = children.read_text().split() if children.exists() else []
    return int(pids[0]) if pids else pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BehindTlsProxy(httpx.HTTPTransport):
    """What the TLS-ending proxy of a deployment makes of a browser's request: one to an
    app's https://127.0.0.1:<port> (its BASE_URL) goes to http://127.0.0.1:<port>, where the
    app listens, with FORWARDED. The browser's side stays https: its cookie jar sends the
    apps' `Secure` cookies back."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            request.url = request.url.copy_with(scheme="http")
            request.headers.update(FORWARDED)
        return super().handle_request(request)


def http_client(**options: Any) -> httpx.Client:
    """A client for this script's requests: every server here listens on plain http on
    127.0.0.1 (an app's https URL goes through BehindTlsProxy).

    Certificates are never needed, and loading them costs each new client ~30 ms, which
    would have the sign-ins measure httpx rather than the apps.
    """
    transport = BehindTlsProxy(verify=False, trust_env=False)
    return httpx.Client(transport=transport, trust_env=False, timeout=30, **options)


def http_get(url: str, cookie: str | None = None) -> httpx.Response:
    with http_client() as client:
        return client.get(url, headers={"Cookie": cookie} if cookie else None)
