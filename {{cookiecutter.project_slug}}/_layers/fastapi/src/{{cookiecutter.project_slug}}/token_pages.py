"""The signed-in user's tokens for API resources and organizations, and an API called with one.

Routes get fresh tokens through the `Tokens` dependency (`access_tokens: Tokens`, then
`await access_tokens.access_token(indicator)` or `.organization_token(organization_id)`);
a token Logto does not give is a note on the page, never an error page.
"""

from collections.abc import Awaitable
from dataclasses import dataclass

import httpx
import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .dependencies import CurrentUser, SettingsDep, Tokens
from .resource_tokens import TokenSummary, token_summary
from .templating import templates
from .tokens import TokenUnavailableError

API_TIMEOUT_SECONDS = 10.0
MAX_BODY_CHARACTERS = 2000  # of the API's answer, shown on the page

router = APIRouter()


@dataclass(frozen=True)
class TokenView:
    target: str  # a resource indicator, or an organization id
    token: TokenSummary | None  # its claims, or None when Logto gave no token
    problem: str = ""  # why not


async def token_view(target: str, token: Awaitable[str]) -> TokenView:
    try:
        return TokenView(target, token_summary(await token))
    except TokenUnavailableError as error:
        return TokenView(target, None, str(error))
    except jwt.DecodeError:
        return TokenView(target, None, f"The token for {target} is not a JWT: nothing to show.")


@router.get("/tokens", response_class=HTMLResponse)
async def tokens(
    request: Request, settings: SettingsDep, user: CurrentUser, access_tokens: Tokens
) -> HTMLResponse:
    # One after the other: each may refresh, under the session's refresh lock.
    resources = [
        await token_view(indicator, access_tokens.access_token(indicator))
        for indicator in settings.logto_resources
    ]
    organizations = None  # not set up
    if settings.organizations_enabled:
        organizations = [
            await token_view(organization_id, access_tokens.organization_token(organization_id))
            for organization_id in user.claims.get("organizations") or []
        ]
    context = {"user": user, "resources": resources, "organizations": organizations}
    return templates.TemplateResponse(request, "tokens.html", context)


@router.get("/call-api", response_class=HTMLResponse)
async def call_api(
    request: Request, settings: SettingsDep, user: CurrentUser, access_tokens: Tokens
) -> HTMLResponse:
    """Call API_URL with an access token for the first of LOGTO_RESOURCES."""
    context = {"user": user, "status": None}
    if not settings.api_url or not settings.logto_resources:
        context["note"] = "No API is set up: set API_URL and LOGTO_RESOURCES in .env."
        return templates.TemplateResponse(request, "call_api.html", context)
    try:
        access_token = await access_tokens.access_token(settings.logto_resources[0])
        async with httpx.AsyncClient(timeout=API_TIMEOUT_SECONDS) as http:
            answer = await http.get(
                settings.api_url, headers={"Authorization": f"Bearer {access_token}"}
            )
    except TokenUnavailableError as error:
        context["note"] = str(error)
    except httpx.HTTPError:
        context["note"] = f"The API at {settings.api_url} did not answer."
    else:
        context |= {"status": answer.status_code, "body": answer.text[:MAX_BODY_CHARACTERS]}
    return templates.TemplateResponse(request, "call_api.html", context)
