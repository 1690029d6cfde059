"""A site's certificate, key and CA paths are limited to the operator's folder (``serve --cert-dir``),
against a real ``serve`` process on SQLite and PostgreSQL: a path outside it is refused with one message
whether or not the file exists, a member cannot tell existing files from missing ones either, and a site
stored without the check fails its scan without reading the file."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import USER_PASSWORD, Served, WebUser, log_in, serve_process

from linkdoctor.monitor.model import SiteOptions, SiteSpec
from linkdoctor.monitor.service import Monitor

EXISTING = "/etc/passwd"
MISSING = "/etc/linkdoctor-no-such-file.pem"
OPTIONS = ("cert_path", "key_path", "pkcs12_path", "cacert_path")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'linkdoctor.sqlite'}"
    cluster = request.getfixturevalue("postgres_cluster")
    return str(cluster.create_database(f"certdir_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "ca.pem").write_text("not really a certificate\n")
    return folder


@pytest.fixture
def server(database: str, tmp_path: Path, certs: Path) -> Iterator[Served]:
    with serve_process(database, tmp_path, "--cert-dir", str(certs), "--tick", "0.5") as served:
        yield served


def site(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"s{uuid.uuid4().hex[:8]}",
        "url": "http://127.0.0.1:9/",
        "every": None,
        "options": options,
    }


@pytest.mark.slow
def test_paths_outside_the_folder_get_one_answer_whether_or_not_the_file_exists(server: Served) -> None:
    admin = log_in(server.base, "admin", ADMIN_PASSWORD)
    for option in OPTIONS:
        answers = [
            admin.api("POST", "/sites", json=site({option: path}))
            for path in (EXISTING, MISSING, "../../../../../../etc/passwd")
        ]
        assert {a.status_code for a in answers} == {422}, option
        assert len({a.text for a in answers}) == 1, [a.text for a in answers]
        assert "certificate folder" in answers[0].text and "passwd" not in answers[0].text


@pytest.mark.slow
def test_a_path_inside_the_folder_is_stored_as_an_absolute_path_there(server: Served, certs: Path) -> None:
    admin = log_in(server.base, "admin", ADMIN_PASSWORD)
    relative = admin.api("POST", "/sites", json=site({"cacert_path": "ca.pem"}))
    assert relative.status_code == 201, relative.text
    assert relative.json()["options"]["cacert_path"] == str(certs / "ca.pem")
    absolute = admin.api("POST", "/sites", json=site({"cacert_path": str(certs / "missing.pem")}))
    assert absolute.status_code == 201, absolute.text


@pytest.mark.slow
def test_a_member_cannot_tell_existing_files_from_missing_ones(server: Served) -> None:
    admin = log_in(server.base, "admin", ADMIN_PASSWORD)
    made = admin.api("POST", "/users", json={"username": "m", "password": USER_PASSWORD, "role": "member"})
    assert made.status_code == 201, made.text
    member: WebUser = log_in(server.base, "m", USER_PASSWORD)
    for option in OPTIONS:
        answers = [member.api("POST", "/sites", json=site({option: path})) for path in (EXISTING, MISSING)]
        assert answers[0].status_code == answers[1].status_code == 403, option
        assert answers[0].text == answers[1].text


@pytest.mark.slow
def test_a_site_stored_without_the_check_fails_its_scan_without_reading_the_file(server: Served) -> None:
    monitor = Monitor.open(server.db_url)  # the sites CLI, or a version before the folder existed
    try:
        spec = SiteSpec(
            name="old", url="http://127.0.0.1:9/", every=None, options=SiteOptions(cacert_path=EXISTING)
        )
        site_id = monitor.add_site(spec).id
    finally:
        monitor.close()
    admin = log_in(server.base, "admin", ADMIN_PASSWORD)
    assert admin.api("POST", f"/sites/{site_id}/scans").status_code == 202
    deadline = time.monotonic() + 60
    scan: dict[str, Any] = {}
    while time.monotonic() < deadline:
        [scan] = admin.api("GET", f"/sites/{site_id}/scans").json()[:1]
        if scan["state"] not in ("queued", "running"):
            break
        time.sleep(0.3)
    assert scan["state"] == "failed", scan
    assert "certificate folder" in scan["error"]
