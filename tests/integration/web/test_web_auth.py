"""Who may do what: login sessions with CSRF-protected forms, API tokens, and public status pages (off by
default). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.integration.web.conftest import ADMIN_PASSWORD, MakeClient, csrf_token, log_in

from linkdoctor.web.throttle import LoginThrottle

SITE = {"name": "docs", "url": "http://127.0.0.1:9/", "every": None}


def test_pages_redirect_to_the_login_form_when_logged_out(make_client: MakeClient, db_url: str) -> None:
    web = make_client(db_url)
    response = web.get("/sites/1?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/sites/1%3Fx%3D1"


def test_wrong_password_is_refused_with_401(make_client: MakeClient, db_url: str) -> None:
    web = make_client(db_url)
    token = csrf_token(web, "/login")
    response = web.post("/login", data={"username": "admin", "password": "nope", "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong user name or password" in response.text
    assert web.get("/", follow_redirects=False).status_code == 303


def test_login_with_control_characters_is_a_wrong_password_not_an_error(
    make_client: MakeClient, db_url: str
) -> None:
    web = make_client(db_url)
    token = csrf_token(web, "/login")
    response = web.post("/login", data={"username": "ad\x00min", "password": "x\x00", "csrf_token": token})
    assert response.status_code == 401


def test_login_without_the_csrf_token_is_refused(make_client: MakeClient, db_url: str) -> None:
    web = make_client(db_url)
    web.get("/login")
    response = web.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 403


def test_admin_password_from_the_environment_logs_in(client: TestClient) -> None:
    assert client.get("/").status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(make_client: MakeClient, db_url: str) -> None:
    web = make_client(db_url)
    cookie = web.get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


def test_session_cookie_is_secure_when_served_over_https(make_client: MakeClient, db_url: str) -> None:
    web = make_client(db_url, secure_cookies=True)
    assert "; secure" in web.get("/login").headers["set-cookie"].lower()


def test_login_redirect_never_leaves_the_site(make_client: MakeClient, db_url: str) -> None:
    web = make_client(db_url)
    token = csrf_token(web, "/login")
    response = web.post(
        "/login",
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_form_post_without_csrf_token_is_refused_even_when_logged_in(client: TestClient) -> None:
    response = client.post("/settings/sites", data={"name": "docs", "url": "http://127.0.0.1:9/"})
    assert response.status_code == 403
    assert client.get("/api/v1/sites").json() == []


def test_csrf_token_from_before_login_is_worthless_after_it(make_client: MakeClient, db_url: str) -> None:
    web = make_client(db_url)
    before = csrf_token(web, "/login")
    log_in(web)
    response = web.post("/settings/sites", data={"csrf_token": before, "name": "docs", "url": SITE["url"]})
    assert response.status_code == 403


def test_logout_ends_the_session(client: TestClient) -> None:
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_api_refuses_anonymous_reads_by_default(make_client: MakeClient, db_url: str) -> None:
    response = make_client(db_url).get("/api/v1/sites")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_write_with_a_session_needs_the_csrf_header(client: TestClient) -> None:
    assert client.post("/api/v1/sites", json=SITE).status_code == 403
    token = csrf_token(client)
    assert client.post("/api/v1/sites", json=SITE, headers={"X-CSRF-Token": token}).status_code == 201


def test_api_token_authenticates_reads_and_writes_without_csrf(
    client: TestClient, make_client: MakeClient, db_url: str
) -> None:
    token = client.post(
        "/api/v1/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": csrf_token(client)}
    ).json()["token"]
    script = make_client(db_url)
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.post("/api/v1/sites", json=SITE, headers=bearer).status_code == 201
    assert [o["site"]["name"] for o in script.get("/api/v1/sites", headers=bearer).json()] == ["docs"]
    assert script.get("/api/v1/me", headers=bearer).json() == {
        "user_id": 1,
        "username": "admin",
        "via": "token",
    }


def test_unknown_api_token_is_refused(make_client: MakeClient, db_url: str) -> None:
    response = make_client(db_url).get("/api/v1/sites", headers={"Authorization": "Bearer ldt_forged"})
    assert response.status_code == 401


def test_token_created_on_the_settings_page_is_shown_once(client: TestClient) -> None:
    page = client.post("/settings/tokens", data={"csrf_token": csrf_token(client), "token_name": "ci"})
    assert 'id="new-token"' in page.text
    assert 'id="new-token"' not in client.get("/settings").text


def test_public_status_lets_anonymous_visitors_read_names_and_states_but_no_notify_target(
    make_client: MakeClient, db_url: str
) -> None:
    admin = make_client(db_url, public_status=True)
    log_in(admin)
    site = {**SITE, "notify": ["json://hook:s3cret@127.0.0.1:9/x"]}
    admin.post("/api/v1/sites", json=site, headers={"X-CSRF-Token": csrf_token(admin)})
    visitor = make_client(db_url, public_status=True, tick=0)
    assert visitor.get("/").status_code == 200
    assert "s3cret" not in visitor.get("/").text
    listed = visitor.get("/api/v1/status").json()
    assert [s["name"] for s in listed] == [SITE["name"]]
    assert "notify" not in listed[0] and "s3cret" not in str(listed)
    assert visitor.get("/api/v1/sites").status_code == 401  # the full sites need a user
    assert visitor.post("/api/v1/sites", json={**SITE, "name": "other"}).status_code == 401
    assert visitor.get("/settings", follow_redirects=False).status_code == 303


def test_repeated_wrong_passwords_are_throttled_even_before_the_right_one(
    make_client: MakeClient, db_url: str
) -> None:
    web = make_client(db_url)
    token = csrf_token(web, "/login")
    for _ in range(5):
        wrong = web.post("/login", data={"username": "admin", "password": "guess", "csrf_token": token})
        assert wrong.status_code == 401
    right = {"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token}
    held = web.post("/login", data=right, follow_redirects=False)
    assert held.status_code == 429
    assert 0 < int(held.headers["retry-after"]) <= 900
    assert "Too many failed logins" in held.text
    assert web.get("/", follow_redirects=False).status_code == 303  # still logged out
    app: Any = web.app
    app.state.runtime.logins = LoginThrottle()  # as if the window had passed
    assert web.post("/login", data=right, follow_redirects=False).status_code == 303


def test_a_new_password_or_a_removed_user_ends_the_open_sessions(client: TestClient) -> None:
    from linkdoctor.monitor import users

    app: Any = client.app
    monitor = app.state.runtime.monitor
    assert client.get("/", follow_redirects=False).status_code == 200
    users.set_password(monitor, "admin", "changed-elsewhere")
    assert client.get("/", follow_redirects=False).status_code == 303  # back to the login form
    log_in(client, "changed-elsewhere")
    assert client.get("/", follow_redirects=False).status_code == 200

    monitor.create_user("second", "second-admin-pw", is_admin=True)
    users.remove_user(monitor, "admin")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/sites").status_code == 401
