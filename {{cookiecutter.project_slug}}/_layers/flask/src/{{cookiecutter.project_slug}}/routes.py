"""Every route of the app: the home page, Logto sign-in and sign-out, the profile, tokens
for API resources and organizations and an API called with one, the user's devices, health,
and the back-channel logout URI that Logto posts to."""

from collections.abc import Callable

import httpx
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from logto import LogtoException
from werkzeug.wrappers import Response

from .auth import (
    TokenUnavailableError,
    access_token,
    keep_id_token_claims,
    keep_sign_in,
    load_user,
    login_required,
    logto_client,
    missing_logto_settings,
    organization_token,
    organizations_on,
    require_logto_settings,
    run_async,
    talking_to_logto,
)
from .backchannel_logout import InvalidLogoutTokenError, validate_logout_token
from .csrf import csrf_protected, new_csrf_token
from .errors import SignInFailedError
from .logto_client import LogtoUnreachableError, oidc_core
from .redirects import safe_next_path
from .resource_tokens import TokenSummary, token_summary
from .sessions import STORE_KIND
from .user_sessions import (
    device,
    end_user_session,
    find_user_session,
    is_current,
    user_sessions,
)

blueprint = Blueprint("pages", __name__)
blueprint.before_app_request(load_user)

NEXT_PATH_KEY = "next_path"  # where to go after the callback, kept through the sign-in
API_TIMEOUT = 10  # seconds /call-api waits for the API
API_BODY_SHOWN = 2000  # characters of the API's answer /call-api shows


@blueprint.get("/")
def index() -> str:
    return render_template("index.html")


@blueprint.get("/sign-in")
def sign_in() -> Response:
    require_logto_settings()
    redirect_uri = f"{current_app.config['BASE_URL']}/callback"
    with talking_to_logto():
        authorization_url = run_async(logto_client().signIn)(redirect_uri)
    if "next" in request.args:
        session[NEXT_PATH_KEY] = safe_next_path(request.args["next"])
    else:
        session.pop(NEXT_PATH_KEY, None)
    return redirect(authorization_url)


@blueprint.get("/callback")
def callback() -> Response:
    require_logto_settings()
    try:
        with talking_to_logto():
            run_async(logto_client().handleSignInCallback)(request.url)
    except LogtoException as error:
        # Wrong or missing state, no sign-in in this session, `error=` from Logto,
        # a code Logto refuses (replayed, expired): no token was stored.
        raise SignInFailedError(str(error)) from error
    next_path = session.pop(NEXT_PATH_KEY, None) or url_for(".profile")
    # A new session id for the signed-in session (the old record is deleted), so that
    # an id known before sign-in, planted or leaked, does not become signed in.
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
    keep_id_token_claims(logto_client())
    keep_sign_in()  # the store indexes the session by it, for back-channel logout
    new_csrf_token()
    return redirect(next_path)


@blueprint.get("/profile")
@login_required
def profile() -> str:
    try:
        with talking_to_logto():
            userinfo = run_async(logto_client().fetchUserInfo)().model_dump(exclude_none=True)
    except (LogtoException, LogtoUnreachableError) as error:
        current_app.logger.warning("Logto's userinfo failed: %s", error)
        userinfo = None
    return render_template(
        "profile.html",
        claims={name: value for name, value in g.user.items() if value is not None},
        userinfo=userinfo,
    )


@blueprint.get("/tokens")
@login_required
def tokens() -> str:
    resources = {
        indicator: token_claims(access_token, indicator)
        for indicator in current_app.config["LOGTO_RESOURCES"]
    }
    organizations = None
    if organizations_on():
        organizations = {
            organization_id: token_claims(organization_token, organization_id)
            for organization_id in g.user.get("organizations") or []
        }
    return render_template("tokens.html", resources=resources, organizations=organizations)


def token_claims(get_token: Callable[[str], str], name: str) -> TokenSummary | str:
    """What the tokens page shows of the token for `name`: its claims, or why Logto gave none."""
    try:
        return token_summary(get_token(name))
    except TokenUnavailableError as error:
        return error.reason


@blueprint.get("/call-api")
@login_required
def call_api() -> str:
    """Call API_URL with a token for the first of LOGTO_RESOURCES, as an app calls its API."""
    api_url, resources = current_app.config["API_URL"], current_app.config["LOGTO_RESOURCES"]
    if not (api_url and resources):
        note = "No API is set up: set API_URL and LOGTO_RESOURCES in .env."
        return render_template("call_api.html", note=note)
    try:
        bearer = {"Authorization": f"Bearer {access_token(resources[0])}"}
        answer = httpx.get(api_url, headers=bearer, timeout=API_TIMEOUT)
    except TokenUnavailableError as error:
        note = f"Logto gave no token for {resources[0]}: {error.reason}."
        return render_template("call_api.html", note=note)
    except httpx.HTTPError as error:
        current_app.logger.warning("The API at %s did not answer: %r", api_url, error)
        return render_template("call_api.html", note=f"The API at {api_url} did not answer.")
    return render_template("call_api.html", answer=answer, body=answer.text[:API_BODY_SHOWN])


@blueprint.get("/sessions")
@login_required
def devices() -> str:
    return render_template("sessions.html", devices=[device(each) for each in user_sessions()])


@blueprint.post("/sessions/<handle>/end")
@csrf_protected
@login_required
def end_session(handle: str) -> Response:
    ended = find_user_session(handle)
    if ended is None:
        abort(404, "You have no such session: it may have ended already.")
    if is_current(ended):
        session.clear()  # this device: signed out here, as by the sign-out button
        return redirect(url_for(".index"), 303)
    end_user_session(ended)
    return redirect(url_for(".devices"), 303)


@blueprint.post("/sessions/end-others")
@csrf_protected
@login_required
def end_other_sessions() -> Response:
    for other in user_sessions():
        if not is_current(other):
            end_user_session(other)
    return redirect(url_for(".devices"), 303)


@blueprint.post("/sign-out")
@csrf_protected
def sign_out() -> Response:
    # Delete the whole session here first: whatever Logto answers, it is over in this app.
    session.clear()
    if missing_logto_settings():
        return redirect(url_for(".index"), 303)
    base_url = current_app.config["BASE_URL"]
    with talking_to_logto():
        end_session_url = run_async(logto_client().signOut)(f"{base_url}/")
    return redirect(end_session_url, 303)


@blueprint.post("/backchannel-logout")
def backchannel_logout() -> tuple[Response, int]:
    """Logto ends a user's sessions here (OpenID Connect Back-Channel Logout 1.0).

    Logto's server calls it, not a browser: no session cookie comes with it and no CSRF
    token is asked for; the logout token's signature is the proof.
    """
    if missing_logto_settings():
        return logout_error("temporarily_unavailable", "sign-in is not set up", 503)
    token = request.form.get("logout_token")
    if not token:
        return logout_error("invalid_request", "logout_token is missing")
    try:
        core = run_async(oidc_core)(current_app.config["LOGTO_ENDPOINT"])
        logout = validate_logout_token(token, core, current_app.config["LOGTO_APP_ID"])
    except LogtoUnreachableError:
        return logout_error("temporarily_unavailable", "Logto is unreachable", 502)
    except InvalidLogoutTokenError as error:
        current_app.logger.info("Logout token refused: %s", error)
        return logout_error("invalid_request", f"invalid logout token: {error}")
    ended = current_app.session_interface.end_sessions(logout)  # type: ignore[attr-defined]
    current_app.logger.info("Back-channel logout ended %d session(s)", ended)
    return jsonify(ended_sessions=ended), 200


def logout_error(error: str, description: str, status: int = 400) -> tuple[Response, int]:
    # Cache-Control: no-store, as Back-Channel Logout 1.0 asks, comes from headers.py.
    return jsonify(error=error, error_description=description), status


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    if current_app.session_interface.ping():  # type: ignore[attr-defined]
        current_app.session_interface.store_answered()  # type: ignore[attr-defined]
        return jsonify(status="ok", session_store=f"{STORE_KIND}: ok"), 200
    return jsonify(status="unavailable", session_store=f"{STORE_KIND}: down"), 503
