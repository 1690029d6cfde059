"""Loading client credentials: every supported form loads, every broken one fails with a clear message
that never contains a password or key material."""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

import pytest
from tests.support.pki import DEFAULT_PASSWORD, PKI

from linkdoctor.config import ClientCert, Secret
from linkdoctor.errors import CertificateError
from linkdoctor.tls.certs import KEY_MISMATCH, ClientCertError, install_client_cert, load_client_cert

WRONG = Secret("not the password")


def load_error(spec: ClientCert) -> ClientCertError:
    with pytest.raises(ClientCertError) as info:
        load_client_cert(spec)
    return info.value


def assert_reveals_nothing(error: Exception, *secrets: str) -> None:
    text = f"{error} {error!r}"
    assert "PRIVATE KEY" not in text
    for secret in (DEFAULT_PASSWORD, WRONG.reveal(), *secrets):
        assert secret not in text
    # No chained exception (whose text could quote the file) travels with it either.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


# --- what loads -----------------------------------------------------------------------------------


def test_pem_certificate_and_key_load(pki: PKI) -> None:
    files = pki.client("load-pem")

    loaded = load_client_cert(ClientCert(cert=files.cert, key=files.key))

    assert (loaded.cert, loaded.chain, loaded.source) == (files.certificate, (), "pem")
    assert (loaded.cert_path, loaded.key_path) == (files.cert, files.key)
    assert loaded.key_matches()


def test_intermediates_after_the_leaf_in_the_pem_file_become_the_chain(pki: PKI) -> None:
    files = pki.client_via_intermediate("load-chain")

    loaded = load_client_cert(ClientCert(cert=files.chain, key=files.key))

    assert loaded.cert == files.certificate
    assert loaded.chain == (pki.intermediate.certificate,)


def test_a_der_certificate_loads(pki: PKI) -> None:
    files = pki.client("load-der")

    loaded = load_client_cert(ClientCert(cert=files.der, key=files.key))

    assert (loaded.cert, loaded.source) == (files.certificate, "der")


def test_a_key_inside_the_certificate_file_is_found(pki: PKI) -> None:
    files = pki.client("load-combined")

    loaded = load_client_cert(ClientCert(cert=files.combined))

    assert (loaded.cert, loaded.key_path) == (files.certificate, None)
    assert loaded.key_matches()


def test_an_encrypted_key_loads_with_its_password(pki: PKI) -> None:
    files = pki.client_encrypted_key("load-encrypted")

    loaded = load_client_cert(ClientCert(cert=files.cert, key=files.key, password=Secret(DEFAULT_PASSWORD)))

    assert loaded.key_matches()


def test_a_password_for_an_unencrypted_key_is_ignored(pki: PKI) -> None:
    files = pki.client("load-extra-password")

    loaded = load_client_cert(ClientCert(cert=files.cert, key=files.key, password=WRONG))

    assert loaded.key_matches()


def test_a_pkcs12_bundle_loads_with_its_intermediates(pki: PKI) -> None:
    files = pki.client_pkcs12("load-p12", via_intermediate=True)

    loaded = load_client_cert(ClientCert(pkcs12=files.p12, password=Secret(DEFAULT_PASSWORD)))

    assert (loaded.cert, loaded.source, loaded.cert_path) == (files.certificate, "pkcs12", files.p12)
    assert loaded.chain == (pki.intermediate.certificate,)


def test_the_repr_shows_no_key(pki: PKI) -> None:
    files = pki.client_encrypted_key("load-repr")

    loaded = load_client_cert(ClientCert(cert=files.cert, key=files.key, password=Secret(DEFAULT_PASSWORD)))

    assert "private_key" not in repr(loaded)
    assert "Key" not in repr(loaded)
    assert DEFAULT_PASSWORD not in repr(loaded)


# --- what fails, and how it says so ------------------------------------------------------------------


def test_a_wrong_key_password_names_the_key_file(pki: PKI) -> None:
    files = pki.client_encrypted_key("err-wrong-password")

    error = load_error(ClientCert(cert=files.cert, key=files.key, password=WRONG))

    assert str(error) == f"the key password is wrong for {files.key}"
    assert_reveals_nothing(error)


def test_an_encrypted_key_without_a_password_says_how_to_give_one(pki: PKI) -> None:
    files = pki.client_encrypted_key("err-no-password")

    error = load_error(ClientCert(cert=files.cert, key=files.key))

    assert f"the key {files.key} is encrypted and no password was given" in str(error)
    assert "--key-password-env" in str(error)
    assert_reveals_nothing(error)


def test_a_key_of_another_certificate_is_a_mismatch(pki: PKI) -> None:
    files = pki.client_mismatched_key("err-mismatch")

    error = load_error(ClientCert(cert=files.cert, key=files.key))

    assert error.code == KEY_MISMATCH
    assert "does not match the certificate" in str(error)
    assert str(files.key) in str(error)
    assert_reveals_nothing(error)


def test_a_mismatched_key_inside_the_certificate_file_is_a_mismatch(pki: PKI) -> None:
    files = pki.client_mismatched_key("err-mismatch-combined")

    error = load_error(ClientCert(cert=files.combined))

    assert error.code == KEY_MISMATCH


def test_a_key_file_given_as_certificate_is_not_a_certificate(pki: PKI) -> None:
    files = pki.client("err-key-as-cert")

    error = load_error(ClientCert(cert=files.key, key=files.key))

    assert str(error) == f"{files.key} contains a private key but no certificate"
    assert_reveals_nothing(error)


def test_a_text_file_is_not_a_certificate(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")

    error = load_error(ClientCert(cert=notes, key=notes))

    assert str(error) == f"{notes} is not a certificate (neither PEM nor DER X.509)"


def test_a_certificate_without_any_key_asks_for_one(pki: PKI) -> None:
    files = pki.client("err-no-key")

    error = load_error(ClientCert(cert=files.cert))

    assert "no private key" in str(error)
    assert "--key" in str(error)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"

    error = load_error(ClientCert(cert=missing, key=missing))

    assert str(error) == f"client certificate file not found: {missing}"
    assert error.path == missing


def test_a_missing_key_file_is_named(pki: PKI, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.key"

    error = load_error(ClientCert(cert=pki.client("err-missing-key").cert, key=missing))

    assert str(error) == f"client key file not found: {missing}"


def test_a_directory_is_not_a_readable_file(tmp_path: Path) -> None:
    error = load_error(ClientCert(cert=tmp_path, key=tmp_path))

    assert "is a directory" in str(error)


def test_an_unreadable_file_says_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.pem"

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)  # a mode-000 file is readable when tests run as root

    error = load_error(ClientCert(cert=locked))

    assert "permission denied" in str(error)


def test_a_wrong_pkcs12_password_names_the_file(pki: PKI) -> None:
    files = pki.client_pkcs12("err-p12-password")

    error = load_error(ClientCert(pkcs12=files.p12, password=WRONG))

    assert str(error) == f"the PKCS#12 password is wrong for {files.p12}"
    assert_reveals_nothing(error)


def test_a_protected_pkcs12_without_a_password_asks_for_one(pki: PKI) -> None:
    files = pki.client_pkcs12("err-p12-no-password")

    error = load_error(ClientCert(pkcs12=files.p12))

    assert f"{files.p12} is password-protected" in str(error)


def test_a_pkcs12_without_a_key_is_refused(pki: PKI) -> None:
    files = pki.client_pkcs12_without_key("err-p12-no-key")

    error = load_error(ClientCert(pkcs12=files.p12, password=Secret(DEFAULT_PASSWORD)))

    assert "holds a certificate but no private key" in str(error)
    assert_reveals_nothing(error)


def test_a_pem_file_given_as_pkcs12_is_refused(pki: PKI) -> None:
    files = pki.client("err-pem-as-p12")

    error = load_error(ClientCert(pkcs12=files.combined, password=WRONG))

    assert str(error) == f"{files.combined} is a PEM file, not PKCS#12: pass it with --cert/--key"


def test_garbage_given_as_pkcs12_is_not_pkcs12(tmp_path: Path) -> None:
    junk = tmp_path / "junk.p12"
    junk.write_bytes(b"\x00\x01garbage")

    error = load_error(ClientCert(pkcs12=junk, password=WRONG))

    assert str(error) == f"{junk} is not a PKCS#12 file"


def test_pkcs12_and_cert_together_are_ambiguous(pki: PKI) -> None:
    files = pki.client_pkcs12("err-both")

    error = load_error(ClientCert(cert=files.cert, pkcs12=files.p12))

    assert "not both" in str(error)


def test_load_errors_are_certificate_errors_with_exit_code_3(tmp_path: Path) -> None:
    error = load_error(ClientCert(cert=tmp_path / "missing.pem"))

    assert isinstance(error, CertificateError)
    assert error.exit_code == 3


# --- handing the key to ssl ---------------------------------------------------------------------------


def test_install_client_cert_loads_the_credentials_into_an_ssl_context(pki: PKI) -> None:
    files = pki.client_pkcs12("install-p12")
    loaded = load_client_cert(ClientCert(pkcs12=files.p12, password=Secret(DEFAULT_PASSWORD)))
    context = ssl.create_default_context()

    install_client_cert(context, loaded)  # raises when OpenSSL refuses the pair

    assert context.verify_mode == ssl.CERT_REQUIRED


def test_without_memfd_the_key_file_is_private_and_removed_at_once(
    pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = pki.client("install-tempfile")
    loaded = load_client_cert(ClientCert(cert=files.cert, key=files.key))
    monkeypatch.delattr(os, "memfd_create")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[tuple[int, int, bytes]] = []
    original = ssl.SSLContext.load_cert_chain

    def spy(self: ssl.SSLContext, certfile: str, keyfile: str | None = None, password: object = None) -> None:
        path = Path(certfile)
        seen.append((path.parent.stat().st_mode & 0o777, path.stat().st_mode & 0o777, path.read_bytes()))
        original(self, certfile, keyfile, password)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)

    install_client_cert(ssl.create_default_context(), loaded)

    [(dir_mode, file_mode, content)] = seen
    assert (dir_mode, file_mode) == (0o700, 0o600)
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in content  # re-encrypted with a one-time password
    assert list(tmp_path.iterdir()) == []
