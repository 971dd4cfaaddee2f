"""A person signs in and out of each framework's baked app with a real (headless) Chromium,
and looks at their tokens and devices on the way (ending their session on another browser).

The app runs under the run command its README names, against the real OpenID Connect provider
its own tests use. `UPDATE_SCREENSHOTS=1 uv run pytest tests/test_browser.py` refreshes the
screenshots in docs/screenshots/ that this repo's README shows.
"""

import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from .conftest import CHOICES, TEMPLATE, run
from .servers import free_port, project_env, provider, serving_readme_app

API = "https://api.example.com"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = TEMPLATE / "docs" / "screenshots"
# Playwright waits 5 s for what a test expects to see; a CI machine baking other projects at the
# same time can take longer to serve a page.
expect.set_options(timeout=15_000)


def only_this_machine(route: Route) -> None:
    """Tests talk only to 127.0.0.1 (the provider's page links a stylesheet from the web)."""
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


def screenshot(page: Page, directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=directory / f"{name}.png", full_page=True)


@pytest.mark.parametrize("framework", CHOICES["framework"])
def test_a_person_signs_in_and_out_with_chromium(baked, tmp_path: Path, framework: str) -> None:
    project = baked(framework, "memory")
    assert run(["uv", "sync", "-q"], project).returncode == 0
    env = project_env()
    shots = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path

    with provider(project, env) as endpoint:
        resource = {"indicator": API, "scopes": ["read:items"]}
        httpx.put(f"{endpoint}/oidc/test/resources", json=resource).raise_for_status()
        claims = {"email": "alice@example.com", "organizations": ["org-1"]}
        httpx.put(f"{endpoint}/oidc/users/alice@example.com", json=claims).raise_for_status()
        port = free_port()
        app_env = env | {
            "BASE_URL": f"http://127.0.0.1:{port}",
            "LOGTO_ENDPOINT": endpoint,
            "LOGTO_APP_ID": "browser-test",
            "LOGTO_APP_SECRET": "browser-test-secret",
            "LOGTO_SCOPES": "read:items",
            "LOGTO_RESOURCES": API,
            "LOGTO_ORGANIZATION_SCOPES": "read:org",
        }
        with (
            serving_readme_app(project, app_env, port) as base_url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 900, "height": 600})
            page.route("**/*", only_this_machine)

            page.goto(base_url + "/")
            expect(page.get_by_role("heading", name="Hello Logto!")).to_be_visible()
            screenshot(page, shots, f"{framework}-home")

            def sign_in(page: Page) -> None:
                page.get_by_role("link", name="Sign in").click()
                page.locator("input[name=sub]").fill("alice@example.com")
                page.get_by_role("button", name="Authorize").click()
                page.wait_for_url(f"{base_url}/profile")

            sign_in(page)
            expect(page.get_by_text("alice@example.com").first).to_be_visible()
            screenshot(page, shots, f"{framework}-profile")

            page.goto(base_url + "/tokens")
            expect(page.get_by_role("heading", name="Tokens")).to_be_visible()
            expect(page.get_by_text("urn:logto:organization:org-1").first).to_be_visible()
            expect(page.get_by_text("read:items").first).to_be_visible()
            expect(page.get_by_text("Logto gave no token")).to_have_count(0)
            screenshot(page, shots, f"{framework}-tokens")

            # alice signs in on a second browser, then ends that session from the first.
            other = browser.new_page()
            other.route("**/*", only_this_machine)
            other.goto(base_url + "/")
            sign_in(other)
            page.goto(base_url + "/sessions")
            expect(page.get_by_role("heading", name="Your devices")).to_be_visible()
            expect(page.get_by_text("This device")).to_have_count(1)
            expect(page.get_by_text("Chrome on Linux")).to_have_count(2)
            screenshot(page, shots, f"{framework}-sessions")
            page.get_by_role("button", name="End", exact=True).click()
            page.wait_for_url(f"{base_url}/sessions")
            expect(page.get_by_text("Chrome on Linux")).to_have_count(1)
            other.goto(base_url + "/")
            expect(other.get_by_text("not signed in")).to_be_visible()

            page.goto(base_url + "/")
            expect(page.get_by_text("signed in as")).to_be_visible()
            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("button", name="End session").click()
            page.wait_for_url(f"{base_url}/")
            expect(page.get_by_text("not signed in")).to_be_visible()
            page.goto(base_url + "/profile")
            expect(page).not_to_have_url(f"{base_url}/profile")
            browser.close()
