"""What the "your devices" page shows of a session, the same in every framework.

A session is named on the page, and in the form that ends it, by a handle: a hash of its
id. The id itself is a bearer secret and never leaves the cookie; the handle cannot be
turned back into it, and the app only acts on a handle found among the signed-in user's
own sessions.
"""

import hashlib
import re
from datetime import UTC, datetime

# Browsers name other engines too ("Chrome/... Safari/..."): the first match wins.
BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:HeadlessChrome|Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\b(?:iPhone|iPad|iPod)\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
PRODUCT = re.compile(r"^([A-Za-z][\w.-]{0,39})/")  # "curl/8.5.0", "python-httpx/0.28.1"


def session_handle(session_id: str) -> str:
    """The name of a session on the page and in its "end" form."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


def device_summary(user_agent: str | None) -> str:
    """A short, non-identifying name for the browser a session was signed in from."""
    user_agent = (user_agent or "")[:512]
    browser = next((name for name, pattern in BROWSERS if pattern.search(user_agent)), None)
    system = next((name for name, pattern in SYSTEMS if pattern.search(user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    if product := PRODUCT.match(user_agent):
        return product.group(1)
    return "Unknown browser"


def timestamp(unix_time: float) -> str:
    """A time as the pages show it: UTC, to the minute (`2026-12-04 17:49 UTC`)."""
    return datetime.fromtimestamp(unix_time, UTC).strftime("%Y-%m-%d %H:%M UTC")
