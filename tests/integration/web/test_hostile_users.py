"""Hostile users against a real ``linkdoctor serve`` process, on SQLite and on PostgreSQL: every route of
the API and the dashboard for an anonymous visitor, a viewer, a member and the admin (the route x role
matrix), and the rules a logged-in non-admin tried to break: deleting the admin's site, and setting header
or auth options (which name server environment variables and files).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import (
    DATABASES,
    USER_PASSWORD,
    Served,
    WebUser,
    add_user_by_cli,
    database_url,
    log_in,
    serve_process,
    setup_users,
)

from linkdoctor.web import api, cluster, pages

ROLES = ("anonymous", "viewer", "member", "admin")
Expect = tuple[int, int, int, int]  # in the order of ROLES


@dataclass(frozen=True)
class Resources:
    """Made fresh for each call: a site of the admin's, one of the member's, a queued scan of the admin's
    site, a throwaway account, and an API token of the admin's and one of the member's."""

    admin_site: int
    member_site: int
    scan: int
    user: int
    token: int
    member_token: int


@pytest.fixture(scope="module", params=DATABASES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve-roles")
    db_url = database_url(request, home, "roles")
    # the admin's sites name DOCS_TOKEN in headers_env: the operator allows it (serve --allow-env)
    # The admin's CA bundle below is in the certificate folder: sites may name files only there.
    # Every row of the route x role matrix adds a site of the member's: no cap on them here
    # (test_site_limit.py tests the cap).
    options = ("--allow-env", "DOCS_TOKEN", "--cert-dir", "/etc/ssl/certs", "--max-sites-per-member", "0")
    with serve_process(db_url, home, *options) as served:
        yield served


@pytest.fixture(scope="module")
def users(server: Served) -> dict[str, WebUser]:
    return setup_users(server.base)


def site_json(headers: bool = False) -> dict[str, Any]:
    options: dict[str, Any] = (
        {"headers_env": [{"name": "Authorization", "env": "DOCS_TOKEN"}]} if headers else {}
    )
    return {
        "name": f"site {uuid.uuid4().hex[:10]}",
        "url": "http://127.0.0.1:9/",
        "every": None,
        "options": options,
    }


def site_form(headers: bool = False) -> dict[str, str]:
    form = {
        "name": f"site {uuid.uuid4().hex[:10]}",
        "url": "http://127.0.0.1:9/",
        "every": "",
        "budget": "100",
        "alert_after": "2",
        "check_fragments": "on",
        "respect_robots": "on",
    }
    return form | ({"headers_env": "Authorization: DOCS_TOKEN"} if headers else {})


def fresh(users: dict[str, WebUser]) -> Resources:
    admin, member = users["admin"], users["member"]
    admin_site = admin.api("POST", "/sites", json=site_json())
    member_site = member.api("POST", "/sites", json=site_json())
    assert admin_site.status_code == member_site.status_code == 201, (admin_site.text, member_site.text)
    scan = admin.api("POST", f"/sites/{admin_site.json()['id']}/scans")
    assert scan.status_code == 202, scan.text
    name = f"u{uuid.uuid4().hex[:10]}"
    user = admin.api("POST", "/users", json={"username": name, "password": "throwaway pw", "role": "viewer"})
    assert user.status_code == 201, user.text
    token = admin.api("POST", "/tokens", json={"name": "matrix victim"})
    member_token = member.api("POST", "/tokens", json={"name": "matrix victim"})
    assert token.status_code == member_token.status_code == 201, (token.text, member_token.text)
    return Resources(
        admin_site.json()["id"],
        member_site.json()["id"],
        scan.json()["id"],
        user.json()["id"],
        token.json()["id"],
        member_token.json()["id"],
    )


@dataclass(frozen=True)
class Case:
    """One route: how to call it, and the status each role gets (anonymous, viewer, member, admin)."""

    face: str  # "api" (bearer token) or "page" (session cookie, form posts with the CSRF token)
    method: str
    path: str  # with {admin_site}, {member_site}, {scan}, {user} filled from Resources
    expect: Expect
    body: Callable[[], dict[str, Any]] | None = None
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.face}:{self.method} {self.path}{' ' + self.note if self.note else ''}"


READ: Expect = (401, 200, 200, 200)
# A password change that the matrix's shared users must not complete: it would end their other sessions.
WRONG_PASSWORD = {"current_password": "not the password", "new_password": "x" * 12}
PAGE: Expect = (303, 200, 200, 200)
MATRIX = [
    # --- the API (/api/v1), with an API token of each role
    Case("api", "GET", "/me", READ),
    Case("api", "GET", "/status", READ, note="public status off"),
    Case("api", "GET", "/sites", READ),
    Case("api", "POST", "/sites", (401, 403, 201, 201), site_json),
    Case("api", "POST", "/sites", (401, 403, 403, 201), lambda: site_json(headers=True), "headers_env"),
    Case("api", "GET", "/sites/{admin_site}", READ),
    Case("api", "PUT", "/sites/{admin_site}", (401, 403, 403, 200), site_json, "admin's site"),
    Case("api", "PUT", "/sites/{member_site}", (401, 403, 200, 200), site_json, "member's site"),
    Case("api", "PUT", "/sites/{member_site}", (401, 403, 403, 200), lambda: site_json(headers=True), "headers"),
    Case("api", "DELETE", "/sites/{admin_site}", (401, 403, 403, 204), note="admin's site"),
    Case("api", "DELETE", "/sites/{member_site}", (401, 403, 204, 204), note="member's site"),
    Case("api", "POST", "/sites/{admin_site}/scans", (401, 403, 202, 202)),
    Case("api", "GET", "/sites/{admin_site}/scans", READ),
    Case("api", "GET", "/sites/{admin_site}/history", READ),
    Case("api", "GET", "/scans/{scan}", READ),
    Case("api", "GET", "/scans/{scan}/results", READ),
    Case("api", "GET", "/scans/{scan}/diff", READ),
    Case("api", "GET", "/scans/{scan}/problems", READ),
    Case("api", "GET", "/sites/{admin_site}/alerts", READ),
    Case("api", "POST", "/tokens", (401, 201, 201, 201), lambda: {"name": "matrix"}),
    Case("api", "GET", "/tokens", READ),
    Case("api", "DELETE", "/tokens/{token}", (401, 404, 404, 204), note="admin's token"),
    Case("api", "DELETE", "/tokens/{member_token}", (401, 404, 204, 204), note="member's token"),
    Case("api", "POST", "/me/password", (401, 403, 403, 403), lambda: dict(WRONG_PASSWORD), "wrong current password"),
    Case("api", "GET", "/users", (401, 403, 403, 200)),
    Case("api", "POST", "/users", (401, 403, 403, 201), lambda: {"username": f"n{uuid.uuid4().hex[:8]}", "password": "p" * 12}),
    Case("api", "DELETE", "/users/{user}", (401, 403, 403, 204)),
    # --- the dashboard, with a login session of each role
    Case("page", "GET", "/healthz", (200, 200, 200, 200)),
    Case("page", "GET", "/login", (200, 303, 303, 303)),
    Case("page", "POST", "/login", (403, 403, 403, 403), note="without the login form's CSRF token"),
    Case("page", "POST", "/logout", (403, 303, 303, 303)),
    Case("page", "GET", "/", PAGE),
    Case("page", "GET", "/sites/{admin_site}", PAGE),
    Case("page", "GET", "/sites/{admin_site}/scans", PAGE),
    Case("page", "POST", "/sites/{admin_site}/scan", (303, 403, 303, 303)),
    Case("page", "GET", "/sites/{admin_site}/edit", (303, 403, 403, 200), note="admin's site"),
    Case("page", "GET", "/sites/{member_site}/edit", (303, 403, 200, 200), note="member's site"),
    Case("page", "POST", "/sites/{admin_site}/edit", (303, 403, 403, 303), site_form, "admin's site"),
    Case("page", "POST", "/sites/{member_site}/edit", (303, 403, 303, 303), site_form, "member's site"),
    Case("page", "POST", "/sites/{member_site}/edit", (303, 403, 403, 303), lambda: site_form(headers=True), "headers"),
    Case("page", "POST", "/sites/{admin_site}/delete", (303, 403, 403, 303), note="admin's site"),
    Case("page", "POST", "/sites/{member_site}/delete", (303, 403, 303, 303), note="member's site"),
    Case("page", "GET", "/settings", PAGE),
    Case("page", "POST", "/settings/sites", (303, 403, 303, 303), site_form),
    Case("page", "POST", "/settings/sites", (303, 403, 403, 303), lambda: site_form(headers=True), "headers"),
    Case("page", "POST", "/settings/tokens", (303, 200, 200, 200), lambda: {"token_name": "matrix"}),
    Case("page", "POST", "/settings/tokens/{token}/revoke", (303, 404, 404, 303), note="admin's token"),
    Case("page", "POST", "/settings/tokens/{member_token}/revoke", (303, 404, 303, 303), note="member's token"),
    Case("page", "POST", "/settings/password", (303, 422, 422, 422), lambda: dict(WRONG_PASSWORD, new_password_again="x" * 12), "wrong current password"),
    Case("page", "POST", "/settings/users", (303, 403, 403, 303), lambda: {"username": f"n{uuid.uuid4().hex[:8]}", "password": "p" * 12, "role": "viewer"}),
    Case("page", "POST", "/settings/users/{user}/delete", (303, 403, 403, 303)),
    Case("page", "GET", "/scans/{scan}", PAGE),
    Case("page", "GET", "/explain", PAGE),
    Case("page", "GET", "/explain/{code}", PAGE),
    Case("page", "GET", "/metrics", READ),
    Case("page", "GET", "/docs", (200, 200, 200, 200)),
    Case("page", "GET", "/openapi.json", (200, 200, 200, 200)),
]  # fmt: skip


def call(case: Case, user: WebUser, res: Resources, users: dict[str, WebUser]) -> int:
    path = case.path.format(
        admin_site=res.admin_site,
        member_site=res.member_site,
        scan=res.scan,
        user=res.user,
        token=res.token,
        member_token=res.member_token,
        code="404",
    )
    body = case.body() if case.body is not None else None
    if case.face == "api":
        return user.api(case.method, path, json=body).status_code
    if case.method == "GET":
        return user.client.get(path).status_code
    if path == "/logout" and user.name != "anonymous":  # a session of its own, so the shared one stays
        password = ADMIN_PASSWORD if user.name == "admin" else USER_PASSWORD
        user = log_in(str(user.client.base_url).rstrip("/"), user.name, password)
    if path == "/login":
        return user.client.post(path, data={"username": user.name, "password": "x"}).status_code
    return user.form(path, body).status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.id)
def test_route_role_matrix(case: Case, role: str, users: dict[str, WebUser]) -> None:
    expected = case.expect[ROLES.index(role)]
    assert call(case, users[role], fresh(users), users) == expected


def test_the_matrix_covers_every_route_of_the_api_and_the_dashboard() -> None:
    routes = {
        (method, prefix + route.path_format)
        for prefix, router in (("/api/v1", api.router), ("", pages.router), ("", cluster.router))
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    placeholders = {
        "site_id": "{admin_site}",
        "scan_id": "{scan}",
        "user_id": "{user}",
        "token_id": "{token}",
        "topic": "{code}",
    }
    expected = set()
    for method, path in routes:
        for name, placeholder in placeholders.items():
            path = path.replace("{" + name + "}", placeholder)
        expected.add((method, path))
    covered = {
        (
            case.method,
            ("/api/v1" if case.face == "api" else "")
            + case.path.replace("{member_site}", "{admin_site}").replace("{member_token}", "{token}"),
        )
        for case in MATRIX
    }
    assert expected - covered == set()


def test_a_member_cannot_delete_or_change_the_admins_site_and_it_stays(server: Served) -> None:
    # The reported hole, reproduced the operator's way: an account added with `linkdoctor users add`.
    name = f"m{uuid.uuid4().hex[:8]}"
    add_user_by_cli(server, name)
    admin, member = log_in(server.base, "admin", ADMIN_PASSWORD), log_in(server.base, name, USER_PASSWORD)
    site = admin.api("POST", "/sites", json=site_json()).json()["id"]
    assert member.api("DELETE", f"/sites/{site}").status_code == 403
    assert member.session_api("DELETE", f"/sites/{site}").status_code == 403
    assert member.form(f"/sites/{site}/delete").status_code == 403
    assert member.api("PUT", f"/sites/{site}", json=site_json()).status_code == 403
    assert member.form(f"/sites/{site}/edit", site_form()).status_code == 403
    assert admin.api("GET", f"/sites/{site}").status_code == 200


def test_another_member_cannot_change_a_members_site(users: dict[str, WebUser]) -> None:
    res = fresh(users)
    other = users["other"]
    assert other.api("PUT", f"/sites/{res.member_site}", json=site_json()).status_code == 403
    assert other.api("DELETE", f"/sites/{res.member_site}").status_code == 403


def test_a_member_cannot_name_a_server_environment_variable_by_any_face(users: dict[str, WebUser]) -> None:
    res = fresh(users)
    member = users["member"]
    secret_site = site_json(headers=True)
    assert member.api("POST", "/sites", json=secret_site).status_code == 403
    assert member.session_api("POST", "/sites", json=secret_site).status_code == 403
    assert member.api("PUT", f"/sites/{res.member_site}", json=secret_site).status_code == 403
    for key_option in (
        {"password_env": "DOCS_TOKEN"},
        {"cert_path": "/etc/shadow"},
        {"cacert_path": "/etc/shadow"},
    ):
        body = site_json() | {"options": key_option}
        assert member.api("POST", "/sites", json=body).status_code == 403, key_option
    assert member.form("/settings/sites", site_form(headers=True)).status_code == 403
    form = site_form() | {"pkcs12_path": "/etc/ssl/private/key.p12", "password_env": "DOCS_TOKEN"}
    assert member.form(f"/sites/{res.member_site}/edit", form).status_code == 403
    stored = member.api("GET", f"/sites/{res.member_site}").json()
    assert stored["options"]["headers_env"] == [] and stored["options"]["password_env"] is None


def test_a_member_keeps_the_header_options_an_admin_gave_its_site(users: dict[str, WebUser]) -> None:
    res = fresh(users)
    admin, member = users["admin"], users["member"]
    equipped = site_json(headers=True)
    equipped["options"]["cacert_path"] = "/etc/ssl/certs/ca-certificates.crt"  # a field no form shows
    assert admin.api("PUT", f"/sites/{res.member_site}", json=equipped).status_code == 200
    # The member's form has no header fields; saving it keeps the admin's headers and CA bundle.
    assert member.form(f"/sites/{res.member_site}/edit", site_form()).status_code == 303
    stored = admin.api("GET", f"/sites/{res.member_site}").json()
    assert stored["options"]["headers_env"] == [{"name": "Authorization", "env": "DOCS_TOKEN"}]
    assert stored["options"]["cacert_path"] == "/etc/ssl/certs/ca-certificates.crt"


def test_the_dashboard_shows_each_role_only_the_actions_it_may_take(users: dict[str, WebUser]) -> None:
    res = fresh(users)
    viewer, member, admin = users["viewer"], users["member"], users["admin"]
    viewer_site = viewer.client.get(f"/sites/{res.admin_site}").text
    assert 'id="scan-now"' not in viewer_site and 'id="edit-site"' not in viewer_site
    viewer_settings = viewer.client.get("/settings").text
    assert 'id="add-site"' not in viewer_settings and 'id="users"' not in viewer_settings
    member_site = member.client.get(f"/sites/{res.admin_site}").text
    assert 'id="scan-now"' in member_site and 'id="edit-site"' not in member_site
    assert 'id="edit-site"' in member.client.get(f"/sites/{res.member_site}").text
    member_settings = member.client.get("/settings").text
    assert 'id="add-site"' in member_settings and 'name="headers_env"' not in member_settings
    assert 'name="password_env"' not in member_settings and 'id="users"' not in member_settings
    admin_settings = admin.client.get("/settings").text
    assert 'name="headers_env"' in admin_settings and 'id="users"' in admin_settings


def test_a_member_sees_notification_targets_only_of_its_own_sites(users: dict[str, WebUser]) -> None:
    admin, member = users["admin"], users["member"]
    hook = "slack://T0AAAAAAA/B0BBBBBBB/SECRETxSECRETxSECRET"
    site = admin.api("POST", "/sites", json=site_json() | {"notify": [hook]}).json()
    shown = member.api("GET", f"/sites/{site['id']}").json()
    assert shown["notify"] == ["slack://***"]
    assert "SECRETxSECRET" not in member.api("GET", "/sites").text
    assert admin.api("GET", f"/sites/{site['id']}").json()["notify"] == [hook]
