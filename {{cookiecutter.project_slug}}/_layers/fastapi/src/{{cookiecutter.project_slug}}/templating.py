"""The Jinja pages of the app (`templates/`)."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Templates are read once per process, as the code is: Jinja would otherwise `stat` every
# template of every page it renders. In development, `uvicorn --reload --reload-include
# '*.html'` (README) restarts the app when a template changes.
templates.env.auto_reload = False


class AnonymousPage:
    """A page that is the same for every anonymous visitor: rendered once per process."""

    def __init__(self, name: str, context: dict[str, Any]) -> None:
        self.name = name
        self.context = context
        self._body: bytes | None = None

    def response(self, request: Request) -> HTMLResponse:
        if self._body is None:
            page = templates.TemplateResponse(request, self.name, dict(self.context))
            self._body = bytes(page.body)
        return HTMLResponse(self._body)
