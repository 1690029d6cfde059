"""Sessions and API tokens against a real ``linkdoctor serve`` process, on SQLite and on PostgreSQL.

A copied session cookie stops working at logout, at a password change (the other sessions of the user)
and at the user's removal; an API token can be listed (never its secret), revoked and given an expiry, in
the API and on the settings page; a member sees and revokes only its own tokens, an admin every token; a
password change revokes the user's tokens unless asked to keep them.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import (
    DATABASES,
    USER_PASSWORD,
    Served,
    WebUser,
    database_url,
    log_in,
    serve_process,
)

NEW_PASSWORD = "another long password"


@pytest.fixture(scope="module", params=DATABASES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve-sessions")
    with serve_process(database_url(request, home, "sessions"), home) as served:
        yield served


@pytest.fixture(scope="module")
def admin(server: Served) -> WebUser:
    return log_in(server.base, "admin", ADMIN_PASSWORD)


def new_user(admin: WebUser, role: str = "member") -> str:
    name = f"u{uuid.uuid4().hex[:10]}"
    added = admin.api("POST", "/users", json={"username": name, "password": USER_PASSWORD, "role": role})
    assert added.status_code == 201, added.text
    return name


def copy_of_cookie(user: WebUser) -> httpx.Client:
    """Another client holding a copy of ``user``'s session cookie (a stolen or forgotten browser)."""
    return httpx.Client(
        base_url=str(user.client.base_url), cookies=dict(user.client.cookies), follow_redirects=False
    )


def logged_in(client: httpx.Client) -> bool:
    page, api = client.get("/settings").status_code, client.get("/api/v1/sites").status_code
    assert (page, api) in ((200, 200), (303, 401)), (page, api)
    return page == 200


def bearer(user: WebUser, token: str) -> int:
    answer = user.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code


def test_an_old_cookie_after_logout_is_refused(server: Served) -> None:
    user = log_in(server.base, new_user(log_in(server.base, "admin", ADMIN_PASSWORD)), USER_PASSWORD)
    stolen = copy_of_cookie(user)
    assert logged_in(stolen)
    assert user.form("/logout").status_code == 303
    assert not logged_in(user.client)
    assert not logged_in(stolen)  # the copy made before logout is refused too


def test_logging_in_again_ends_the_session_the_cookie_held(server: Served, admin: WebUser) -> None:
    name = new_user(admin)
    user = log_in(server.base, name, USER_PASSWORD)
    before = copy_of_cookie(user)
    again = user.form("/login", {"username": name, "password": USER_PASSWORD, "next": "/"})
    assert again.status_code == 303
    assert logged_in(user.client) and not logged_in(before)


def test_a_password_change_ends_the_other_sessions_and_revokes_the_tokens(
    server: Served, admin: WebUser
) -> None:
    name = new_user(admin)
    here, elsewhere = log_in(server.base, name, USER_PASSWORD), log_in(server.base, name, USER_PASSWORD)
    changed = here.form(
        "/settings/password",
        {"current_password": USER_PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert changed.status_code == 200 and "API tokens were revoked" in changed.text
    assert logged_in(here.client)  # the session that made the change stays
    assert not logged_in(elsewhere.client)
    assert bearer(here, here.token) == bearer(here, elsewhere.token) == 401
    assert log_in(server.base, name, NEW_PASSWORD).name == name


def test_a_password_change_through_the_api_can_keep_the_tokens(server: Served, admin: WebUser) -> None:
    name = new_user(admin)
    here, elsewhere = log_in(server.base, name, USER_PASSWORD), log_in(server.base, name, USER_PASSWORD)
    body = {"current_password": USER_PASSWORD, "new_password": NEW_PASSWORD, "keep_tokens": True}
    assert here.session_api("POST", "/me/password", json=body).status_code == 204
    assert logged_in(here.client) and not logged_in(elsewhere.client)
    assert bearer(here, here.token) == bearer(here, elsewhere.token) == 200
    # Through a token, without keep_tokens: every token goes, the calling one included.
    again = {"current_password": NEW_PASSWORD, "new_password": USER_PASSWORD}
    assert here.api("POST", "/me/password", json=again).status_code == 204
    assert bearer(here, here.token) == bearer(here, elsewhere.token) == 401


def test_a_wrong_current_password_changes_nothing(server: Served, admin: WebUser) -> None:
    name = new_user(admin)
    here, elsewhere = log_in(server.base, name, USER_PASSWORD), log_in(server.base, name, USER_PASSWORD)
    wrong = {"current_password": "not the password", "new_password": NEW_PASSWORD}
    assert here.api("POST", "/me/password", json=wrong).status_code == 403
    form = here.form("/settings/password", wrong | {"new_password_again": NEW_PASSWORD})
    assert form.status_code == 422 and "current password is wrong" in form.text
    assert logged_in(elsewhere.client) and bearer(here, here.token) == 200


def test_removing_a_user_ends_its_sessions_and_tokens(server: Served, admin: WebUser) -> None:
    name = new_user(admin)
    user = log_in(server.base, name, USER_PASSWORD)
    stolen = copy_of_cookie(user)
    assert admin.api("DELETE", f"/users/{user.user_id}").status_code == 204
    new_user(admin)  # may get the same id on SQLite: the old cookie must not become its session
    assert not logged_in(user.client) and not logged_in(stolen)
    assert bearer(user, user.token) == 401


def test_tokens_are_listed_without_their_secret_and_revoked_at_once(server: Served, admin: WebUser) -> None:
    user = log_in(server.base, new_user(admin), USER_PASSWORD)
    made = user.api("POST", "/tokens", json={"name": "deploy"})
    assert made.status_code == 201
    token = made.json()
    assert token["token"].startswith("ldt_") and token["expires_at"] is None
    listing = user.api("GET", "/tokens")
    assert listing.status_code == 200
    assert {t["name"] for t in listing.json()} == {"tests", "deploy"}
    assert all("token" not in t for t in listing.json())
    assert token["token"] not in listing.text and user.token not in listing.text
    assert token["token"] not in user.client.get("/settings").text
    assert user.api("DELETE", f"/tokens/{token['id']}").status_code == 204
    assert bearer(user, token["token"]) == 401
    assert user.api("DELETE", f"/tokens/{token['id']}").status_code == 404
    assert bearer(user, user.token) == 200  # the other token stays


def test_a_member_sees_and_revokes_only_its_own_tokens_and_an_admin_all(
    server: Served, admin: WebUser
) -> None:
    member = log_in(server.base, new_user(admin), USER_PASSWORD)
    other = log_in(server.base, new_user(admin), USER_PASSWORD)
    assert {t["user_id"] for t in member.api("GET", "/tokens").json()} == {member.user_id}
    others = [t["id"] for t in other.api("GET", "/tokens").json()]
    assert member.api("DELETE", f"/tokens/{others[0]}").status_code == 404
    assert member.form(f"/settings/tokens/{others[0]}/revoke").status_code == 404
    assert bearer(other, other.token) == 200
    everyone = {t["user_id"] for t in admin.api("GET", "/tokens").json()}
    assert {admin.user_id, member.user_id, other.user_id} <= everyone
    assert admin.api("DELETE", f"/tokens/{others[0]}").status_code == 204
    assert bearer(other, other.token) == 401


def test_an_expired_token_is_refused(server: Served, admin: WebUser) -> None:
    user = log_in(server.base, new_user(admin), USER_PASSWORD)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert user.api("POST", "/tokens", json={"name": "old", "expires_at": past}).status_code == 422
    soon = datetime.now(UTC) + timedelta(seconds=2)
    made = user.api("POST", "/tokens", json={"name": "short", "expires_at": soon.isoformat()})
    assert made.status_code == 201, made.text
    assert datetime.fromisoformat(made.json()["expires_at"]).replace(tzinfo=UTC) == soon.replace(tzinfo=UTC)
    assert bearer(user, made.json()["token"]) == 200
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.5)
    assert bearer(user, made.json()["token"]) == 401


def test_the_settings_page_creates_an_expiring_token_lists_and_revokes_it(
    server: Served, admin: WebUser
) -> None:
    user = log_in(server.base, new_user(admin, "viewer"), USER_PASSWORD)
    page = user.form("/settings/tokens", {"token_name": "nightly", "expires_days": "7"})
    assert page.status_code == 200
    secret = page.text.split('id="new-token">')[1].split("<")[0]
    assert bearer(user, secret) == 200
    listed = user.client.get("/settings").text
    assert "nightly" in listed and secret not in listed
    (made,) = [t for t in user.api("GET", "/tokens").json() if t["name"] == "nightly"]
    expires = datetime.fromisoformat(made["expires_at"]).replace(tzinfo=UTC)
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=5)
    assert user.form(f"/settings/tokens/{made['id']}/revoke").status_code == 303
    assert bearer(user, secret) == 401


def test_the_server_stores_neither_token_secrets_nor_session_keys(server: Served, admin: WebUser) -> None:
    user = log_in(server.base, new_user(admin), USER_PASSWORD)
    cookie = user.client.cookies["linkdoctor_session"]
    payload = cookie.split(".")[0]
    session = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert "sid" in session  # the cookie is signed, not encrypted: it holds a key, not the user
    engine = sa.create_engine(server.db_url)
    try:
        with engine.connect() as connection:
            stored = [
                str(row)
                for table in ("api_tokens", "login_sessions")
                for row in connection.execute(sa.text(f"SELECT * FROM {table}"))
            ]
    finally:
        engine.dispose()
    assert stored and not any(user.token in row or session["sid"] in row for row in stored)


def test_no_cache_keeps_a_page_or_answer_that_shows_a_secret(server: Served, admin: WebUser) -> None:
    # A token's secret is shown once, and a site's notification URLs carry webhook tokens: a browser or
    # proxy cache must not keep them for the next person at the machine.
    page = admin.form("/settings/tokens", {"token_name": "cached?"})
    assert 'id="new-token">' in page.text
    created = admin.api("POST", "/tokens", json={"name": "cached?"})
    site = {
        "name": "cache",
        "url": "http://127.0.0.1:9/",
        "every": None,
        "notify": ["json://hooks.invalid/t0k"],
    }
    added = admin.api("POST", "/sites", json=site)
    assert added.status_code == 201, added.text
    answers = [page, created, added, admin.client.get(f"/sites/{added.json()['id']}/edit")]
    answers += [admin.api("GET", f"/sites/{added.json()['id']}"), admin.client.get("/settings")]
    for answer in answers:
        assert answer.headers.get("cache-control") == "no-store", (answer.request.url, answer.headers)
    assert "no-store" not in admin.client.get("/static/style.css").headers.get("cache-control", "")


def test_a_user_holds_at_most_a_thousand_tokens(server: Served, admin: WebUser) -> None:
    # Creating a token is cheap and each one is listed on the settings page (an admin's lists everyone's):
    # a viewer looping on POST /tokens made 17,000 in a minute and a 7.6 MB settings page.
    viewer = log_in(server.base, new_user(admin, "viewer"), USER_PASSWORD)  # holds one token: "tests"
    for number in range(999):
        assert viewer.api("POST", "/tokens", json={"name": f"t{number}"}).status_code == 201
    refused = viewer.api("POST", "/tokens", json={"name": "one too many"})
    assert refused.status_code == 422 and "at most 1000 API tokens" in refused.text, refused.text
    page = viewer.form("/settings/tokens", {"token_name": "one too many"})
    assert page.status_code == 422 and "at most 1000 API tokens" in page.text
    assert 'id="new-token"' not in page.text
    listed = viewer.api("GET", "/tokens").json()
    assert len(listed) == 1000
    assert viewer.api("DELETE", f"/tokens/{listed[0]['id']}").status_code == 204
    assert viewer.api("POST", "/tokens", json={"name": "room again"}).status_code == 201
