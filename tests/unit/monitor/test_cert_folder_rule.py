"""The certificate folder's rule on a site's file paths, without a server: inside the folder (relative paths
taken from it) or refused, with one message that never depends on the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkdoctor.errors import ConfigError
from linkdoctor.monitor.certpaths import CertFolder
from linkdoctor.monitor.model import SiteOptions, SiteSpec


def spec(**options: str) -> SiteSpec:
    return SiteSpec(name="s", url="https://example.org/", options=SiteOptions(**options))  # type: ignore[arg-type]


def test_relative_and_absolute_paths_inside_the_folder_are_stored_absolute(tmp_path: Path) -> None:
    folder = CertFolder(tmp_path)
    confined = folder.confine(spec(cert_path="client.pem", key_path=str(tmp_path / "keys" / "client.key")))
    assert confined.options.cert_path == str(tmp_path / "client.pem")
    assert confined.options.key_path == str(tmp_path / "keys" / "client.key")


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.pem", "sub/../../outside.pem", ".", ""])
def test_paths_that_leave_the_folder_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(ConfigError, match="inside the certificate folder"):
        CertFolder(tmp_path / "certs").place("cacert_path", path)


def test_the_refusal_is_the_same_for_an_existing_and_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "exists.pem").write_text("x")
    folder = CertFolder(tmp_path / "certs")
    messages = set()
    for path in (tmp_path / "exists.pem", tmp_path / "missing.pem"):
        with pytest.raises(ConfigError) as refused:
            folder.place("cacert_path", str(path))
        messages.add(str(refused.value))
    assert len(messages) == 1


def test_without_a_folder_no_file_is_taken() -> None:
    with pytest.raises(ConfigError, match=r"takes no certificate, key or CA files.*--cert-dir"):
        CertFolder(None).confine(spec(pkcs12_path="/srv/certs/client.p12"))
    assert CertFolder(None).confine(spec()) == spec()
