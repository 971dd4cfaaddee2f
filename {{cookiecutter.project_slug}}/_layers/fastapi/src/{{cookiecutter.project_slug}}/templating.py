"""The Jinja pages of the app (`templates/`)."""

from functools import lru_cache
from pathlib import Path

from fastapi.templating import Jinja2Templates

HOME_PAGES_KEPT = 1024  # rendered home pages kept per process (home_page)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Templates are read once per process, as the code is: Jinja would otherwise `stat` every
# template of every page it renders. In development, `uvicorn --reload --reload-include
# '*.html'` (README) restarts the app when a template changes.
templates.env.auto_reload = False


@lru_cache(maxsize=HOME_PAGES_KEPT)
def home_page(name: str | None, csrf_token: str | None) -> bytes:
    """The home page as the user `name` sees it (None: an anonymous visitor).

    It depends on nothing else, and neither changes during a session (`csrf_token` is the
    session's own), so each page is rendered once per process, for all anonymous visitors
    or for one session, rather than on every visit; the latest HOME_PAGES_KEPT are kept.
    """
    # `user` only tells base.html whether someone is signed in.
    context = {"user": name is not None, "name": name, "csrf_token": csrf_token}
    return templates.get_template("index.html").render(context).encode()
