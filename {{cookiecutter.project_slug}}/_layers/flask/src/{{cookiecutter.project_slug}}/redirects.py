"""Where the app may send the browser after sign-in: only back to one of its own pages."""

from urllib.parse import urlsplit

DEFAULT_PATH = "/"


def safe_next_path(candidate: str | None) -> str:
    """`candidate` when it is a path on this app, else "/".

    Browsers read `//host`, `/\\host` and `\\\\host` as other sites, ignore tabs and newlines
    inside URLs, and run `javascript:` URLs, so only a plain absolute path is kept.
    """
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return DEFAULT_PATH
    if any(char in candidate for char in "\\\t\r\n") or not candidate.isprintable():
        return DEFAULT_PATH
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return DEFAULT_PATH
    return candidate
