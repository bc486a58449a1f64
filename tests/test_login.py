"""Logging in on a shared server, in a real browser: the app behind Streamlit's OpenID Connect login,
with a local OpenID Connect provider (oidc-provider-mock) on the loopback address; and behind a
proxy's header.  An editor saves; a viewer opens what was saved and cannot change it."""

from __future__ import annotations

import secrets

import pytest

from tests.app_server import app_server_process, free_port
from tests.test_browser import _browser, _skip_without_browser

pytestmark = pytest.mark.browser

ALICE = {"email": "alice@anyshire.gov.uk", "name": "Alice Planner"}
BOB = {"email": "bob@anyshire.gov.uk", "name": "Bob Board"}


def _secrets(path, app_port: int, provider_port: int) -> str:
    path.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "{secrets.token_hex(16)}"
client_id = "adoption-planner"
client_secret = "{secrets.token_hex(8)}"
server_metadata_url = "http://localhost:{provider_port}/.well-known/openid-configuration"
""")
    return str(path)


def _log_in(context, url: str, who: str):
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Log in").click(timeout=60_000)
    page.get_by_role("button", name=who).click(timeout=30_000)  # the provider's page: a predefined user
    page.get_by_text("Signed in as", exact=False).first.wait_for(timeout=90_000)
    return page


def _library_page(page, url: str) -> None:
    page.goto(f"{url}/library")
    page.get_by_text("Scenarios and comparisons saved here", exact=False).first.wait_for(timeout=90_000)


def test_an_editor_saves_and_a_viewer_opens_behind_an_openid_connect_login(tmp_path):
    sync_api = _skip_without_browser()
    provider_mock = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is not installed")
    users = [provider_mock.User(sub="alice", claims=ALICE), provider_mock.User(sub="bob", claims=BOB)]
    app_port = free_port()
    with provider_mock.run_server_in_thread(port=0, user_claims=users) as provider:
        env = {"ADOPTION_EDITORS": ALICE["email"], "ADOPTION_LIBRARY": f"sqlite:///{tmp_path}/shared.sqlite3"}
        options = ("--secrets.files", _secrets(tmp_path / "secrets.toml", app_port, provider.server_port))
        with app_server_process(reps=4, years=2, engine="serial", port=app_port, env=env, options=options) as (url, _), \
                sync_api.sync_playwright() as p:
            browser = _browser(p)
            try:
                stranger = browser.new_context().new_page()
                stranger.goto(f"{url}/library")
                stranger.get_by_role("button", name="Log in").wait_for(timeout=60_000)
                assert stranger.get_by_text("Scenarios and comparisons saved here", exact=False).count() == 0  # not before login

                alice = _log_in(browser.new_context(), url, "alice")
                assert alice.get_by_text("Signed in as Alice Planner (alice@anyshire.gov.uk): editor").count() == 1
                _library_page(alice, url)
                alice.get_by_label("Title").first.fill("Alice's baseline")
                alice.get_by_role("button", name="Save the scenario").click()
                alice.get_by_text("Saved as scenario 1, with its figures.").wait_for(timeout=60_000)
                alice.get_by_text("Alice Planner (alice@anyshire.gov.uk)", exact=False).first.wait_for(timeout=30_000)

                bob = _log_in(browser.new_context(), url, "bob")
                assert bob.get_by_text("Signed in as Bob Board (bob@anyshire.gov.uk): viewer", exact=False).count() == 1
                _library_page(bob, url)
                bob.get_by_text("You can open what is saved here; editors save, rename and delete.").wait_for()
                assert bob.get_by_role("button", name="Save the scenario").count() == 0
                assert bob.get_by_role("button", name="Delete").count() == 0
                bob.get_by_role("button", name="Open as the baseline").click()  # viewers open
                bob.get_by_text("Library: Alice's baseline", exact=False).first.wait_for(timeout=90_000)
                assert bob.locator("[data-testid='stException']").count() == 0
                assert alice.locator("[data-testid='stException']").count() == 0
            finally:
                browser.close()


def test_behind_a_proxy_its_header_names_the_person_and_their_role(tmp_path):
    sync_api = _skip_without_browser()
    env = {"ADOPTION_USER_HEADER": "X-Forwarded-Email", "ADOPTION_EDITORS": ALICE["email"],
           "ADOPTION_LIBRARY": f"sqlite:///{tmp_path}/shared.sqlite3"}
    with app_server_process(reps=4, years=2, engine="serial", env=env) as (url, _), sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            nobody = browser.new_context().new_page()
            nobody.goto(url)
            nobody.get_by_text("expects the sign-in in front of it to name you", exact=False).wait_for(timeout=60_000)
            for email, role in ((ALICE["email"], "editor"), (BOB["email"], "viewer")):
                page = browser.new_context(extra_http_headers={"X-Forwarded-Email": email}).new_page()
                page.goto(f"{url}/library")
                page.get_by_text(f"Signed in as {email}: {role}", exact=False).wait_for(timeout=90_000)
                saving = page.get_by_role("button", name="Save the scenario")
                page.get_by_text("Saved scenarios", exact=False).first.wait_for(timeout=60_000)
                assert saving.count() == (1 if role == "editor" else 0)
        finally:
            browser.close()
