"""Specs for reading certificate, key and CRL files (linkdoctor.nginx.certs)."""

from __future__ import annotations

from pathlib import Path

from tests.nginx.materials import PASSPHRASE, Materials

from linkdoctor.nginx.certs import (
    FileReader,
    intermediate_levels,
    is_ca,
    is_self_signed,
    key_matches,
    missing_issuers,
)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_missing_file_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    assert FileReader().certificates(tmp_path / "nope.pem").problem == "does not exist"


def test_a_directory_is_a_problem(tmp_path: Path) -> None:
    assert FileReader().certificates(tmp_path).problem == "is a directory, not a file"


def test_an_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    def deny(path: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(path))

    assert FileReader(read_bytes=deny).certificates(tmp_path / "ca.pem").problem == (
        "is not readable (permission denied)"
    )


def test_text_without_a_certificate_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "ca.pem", b"hello\n")
    assert FileReader().certificates(path).problem == "holds no PEM certificate"


def test_every_certificate_of_a_bundle_is_read_in_order(tmp_path: Path, materials: Materials) -> None:
    path = write(tmp_path, "chain.pem", materials.get("client-ca-chain"))
    loaded = FileReader().certificates(path)
    assert [is_self_signed(c) for c in loaded.certificates] == [False, True]


def test_an_encrypted_key_opens_with_the_right_passphrase(tmp_path: Path, materials: Materials) -> None:
    path = write(tmp_path, "key.pem", materials.get("server-key-encrypted"))
    key = FileReader().key(path, (b"wrong", PASSPHRASE.encode()))
    assert key.key is not None
    assert key.encrypted


def test_an_encrypted_key_without_passphrase_is_a_problem(tmp_path: Path, materials: Materials) -> None:
    path = write(tmp_path, "key.pem", materials.get("server-key-encrypted"))
    key = FileReader().key(path, (b"wrong",))
    assert key.key is None
    assert (
        key.problem
        == "holds an encrypted private key and none of the passphrases in ssl_password_file opens it"
    )


def test_key_match_compares_public_keys(tmp_path: Path, materials: Materials) -> None:
    reader = FileReader()
    cert = reader.certificates(write(tmp_path, "c.pem", materials.get("server-cert"))).certificates[0]
    own = reader.key(write(tmp_path, "k.pem", materials.get("server-key"))).key
    other = reader.key(write(tmp_path, "o.pem", materials.get("other-key"))).key
    assert own is not None and other is not None
    assert key_matches(cert, own)
    assert not key_matches(cert, other)


def test_a_key_after_a_certificate_in_one_file_is_found(tmp_path: Path, materials: Materials) -> None:
    path = write(tmp_path, "combined.pem", materials.get("server-cert") + materials.get("server-key"))
    assert FileReader().key(path).key is not None


def test_intermediate_levels_counts_the_longest_chain_to_a_root(tmp_path: Path, materials: Materials) -> None:
    reader = FileReader()
    deep = reader.certificates(write(tmp_path, "deep.pem", materials.get("client-ca-deep"))).certificates
    one = reader.certificates(write(tmp_path, "one.pem", materials.get("client-ca-chain"))).certificates
    root = reader.certificates(write(tmp_path, "root.pem", materials.get("client-ca"))).certificates
    assert (intermediate_levels(deep), intermediate_levels(one), intermediate_levels(root)) == (2, 1, 0)


def test_an_intermediate_without_its_root_is_reported(tmp_path: Path, materials: Materials) -> None:
    reader = FileReader()
    alone = reader.certificates(write(tmp_path, "int.pem", materials.get("client-intermediate-only")))
    chain = reader.certificates(write(tmp_path, "chain.pem", materials.get("client-ca-chain")))
    assert missing_issuers(alone.certificates) == alone.certificates
    assert missing_issuers(chain.certificates) == ()


def test_a_leaf_certificate_is_not_a_ca(tmp_path: Path, materials: Materials) -> None:
    reader = FileReader()
    leaf = reader.certificates(write(tmp_path, "leaf.pem", materials.get("client-leaf"))).certificates[0]
    root = reader.certificates(write(tmp_path, "root.pem", materials.get("client-ca"))).certificates[0]
    assert (is_ca(leaf), is_ca(root)) == (False, True)


def test_crls_are_read_and_garbage_is_a_problem(tmp_path: Path, materials: Materials) -> None:
    reader = FileReader()
    assert len(reader.crls(write(tmp_path, "c.crl", materials.get("crl-root-and-intermediate"))).crls) == 2
    assert reader.crls(write(tmp_path, "g.crl", b"junk")).problem == "holds no PEM CRL"
