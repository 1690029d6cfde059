"""A member owns at most ``serve --max-sites-per-member`` sites, each with a daily budget of at most
``serve --max-member-budget`` link checks: every site is scanned on its schedule within its budget, so without
both caps one account could make the server check without bound. On SQLite and PostgreSQL, through the API
and the form, one request at a time and in a burst."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from tests.integration.web.served import (
    DATABASES,
    Served,
    WebUser,
    database_url,
    log_in,
    serve_process,
    setup_users,
)

LIMIT = 3
BUDGET = 500


@pytest.fixture(scope="module", params=DATABASES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve-site-limit")
    db_url = database_url(request, home, "limit")
    options = ("--max-sites-per-member", str(LIMIT), "--max-member-budget", str(BUDGET))
    with serve_process(db_url, home, *options) as served:
        yield served


@pytest.fixture(scope="module")
def users(server: Served) -> dict[str, WebUser]:
    return setup_users(server.base)


def site_json(prefix: str, budget: int = 100) -> dict[str, Any]:
    name = f"{prefix} {uuid.uuid4().hex[:10]}"
    return {"name": name, "url": "http://127.0.0.1:9/", "every": None, "budget": budget}


def new_member(server: Served, admin: WebUser) -> WebUser:
    name = f"m{uuid.uuid4().hex[:8]}"
    made = admin.api(
        "POST", "/users", json={"username": name, "password": "member password", "role": "member"}
    )
    assert made.status_code == 201, made.text
    return log_in(server.base, name, "member password")


def named(admin: WebUser, prefix: str) -> list[int]:
    """The ids of the sites whose name starts with ``prefix`` (each test names its sites apart)."""
    return [
        s["site"]["id"] for s in admin.api("GET", "/sites").json() if s["site"]["name"].startswith(prefix)
    ]


def test_a_member_adds_sites_up_to_the_limit_and_no_more(users: dict[str, WebUser]) -> None:
    member, admin = users["member"], users["admin"]
    for _ in range(LIMIT):
        added = member.api("POST", "/sites", json=site_json("mine"))
        assert added.status_code == 201, added.text
    refused = member.api("POST", "/sites", json=site_json("mine"))
    assert refused.status_code == 403
    assert f"--max-sites-per-member {LIMIT}" in refused.json()["detail"]
    form = member.form(
        "/settings/sites",
        {"name": "mine by form", "url": "http://127.0.0.1:9/", "every": "", "budget": "100"},
    )
    assert form.status_code == 422  # the settings page again, saying why
    assert "max-sites-per-member" in form.text
    assert len(named(admin, "mine")) == LIMIT
    # removing one makes room for one
    assert member.api("DELETE", f"/sites/{named(admin, 'mine')[0]}").status_code == 204
    assert member.api("POST", "/sites", json=site_json("mine")).status_code == 201
    assert member.api("POST", "/sites", json=site_json("mine")).status_code == 403


def test_admins_are_not_limited_and_other_members_have_their_own_count(users: dict[str, WebUser]) -> None:
    admin, other = users["admin"], users["other"]
    for _ in range(LIMIT + 2):
        assert admin.api("POST", "/sites", json=site_json("admin's")).status_code == 201
    assert other.api("POST", "/sites", json=site_json("other's")).status_code == 201


def test_a_burst_of_requests_cannot_pass_the_limit(server: Served, users: dict[str, WebUser]) -> None:
    # the count and the insert are one transaction: 12 requests at once still leave LIMIT sites
    admin = users["admin"]
    burst = new_member(server, admin)
    name = burst.name

    def add(_: int) -> int:
        with httpx.Client(base_url=server.base, timeout=20) as client:  # a connection each: truly at once
            headers = {"Authorization": f"Bearer {burst.token}"}
            return client.post("/api/v1/sites", json=site_json(name), headers=headers).status_code

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(add, range(12)))
    assert sorted(set(codes)) == [201, 403], codes
    assert codes.count(201) == LIMIT
    assert len(named(admin, name)) == LIMIT


def test_a_member_gives_a_site_no_bigger_budget_than_the_cap(
    server: Served, users: dict[str, WebUser]
) -> None:
    admin = users["admin"]
    member = new_member(server, admin)
    refused = member.api("POST", "/sites", json=site_json("budget", BUDGET + 1))
    assert refused.status_code == 403
    assert f"--max-member-budget {BUDGET}" in refused.json()["detail"]
    added = member.api("POST", "/sites", json=site_json("budget", BUDGET))
    assert added.status_code == 201, added.text
    site = added.json()
    raised = {**site_json("budget", BUDGET * 2), "name": site["name"]}
    assert member.api("PUT", f"/sites/{site['id']}", json=raised).status_code == 403
    assert admin.api("POST", "/sites", json=site_json("budget", BUDGET * 10)).status_code == 201
