"""The API fuzzed against its own OpenAPI schema (schemathesis, bounded examples): no input an authenticated
client can send makes it answer with a 5xx, as an admin or as a member. Runs on SQLite and PostgreSQL,
through the real monitor service.

Names in generated site URLs are answered by a stand-in resolver (a public documentation address), so the
SSRF guard's DNS step never leaves the machine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from tests.integration.web.conftest import LOOPBACK

from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.monitor.model import Role, SiteSpec
from linkdoctor.monitor.service import Monitor
from linkdoctor.web.app import create_app
from linkdoctor.web.settings import ServeSettings

MAX_EXAMPLES = 12


def documentation_address(host: str, port: int) -> Sequence[str]:
    return ["192.0.2.10"] if host.endswith(".invalid") else ["93.184.216.34"]


@pytest.fixture(params=["admin", "member"])
def fuzzed(db_url: str, request: pytest.FixtureRequest) -> Iterator[tuple[FastAPI, str]]:
    guard = SSRFGuard(LOOPBACK, resolve=documentation_address)
    monitor = Monitor.open(db_url, guard=guard, scan_guard=guard)
    try:
        app = create_app(ServeSettings(db_url=db_url, tick=0), service=monitor, announce=lambda _: None)
        site = monitor.add_site(SiteSpec(name="seed", url="http://127.0.0.1:9/", every=timedelta(days=1)))
        monitor.request_scan(site.id)
        user = (
            1
            if request.param == "admin"
            else monitor.create_user("fuzz", "fuzz-password", role=Role.MEMBER).id
        )
        token = monitor.create_token(user, "fuzz")
        yield app, token
    finally:
        monitor.close()


@pytest.mark.slow
def test_api_never_answers_with_a_server_error(fuzzed: tuple[FastAPI, str]) -> None:
    app, token = fuzzed
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) >= 12
    paths = {(operation.method.upper(), operation.path) for operation in operations}
    assert {("GET", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/{token_id}")} <= paths
    assert ("POST", "/api/v1/me/password") in paths
    # Revoking tokens may hit the fuzzing token itself: last, so every other operation runs authenticated.
    operations.sort(key=lambda op: (op.method.upper(), op.path) == ("DELETE", "/api/v1/tokens/{token_id}"))
    auth = {"Authorization": f"Bearer {token}"}
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            statuses.append(case.call_and_validate(headers=auth, checks=[not_a_server_error]).status_code)

        no_server_error()
    assert len(statuses) > 3 * len(operations)
    assert {200, 201, 404, 422} <= set(statuses)
