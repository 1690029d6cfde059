"""A hostile configuration gets one clear line (exit 3) or a precise finding from ``linkdoctor nginx lint``,
in bounded time and memory, never a traceback or a hang: includes of a FIFO or a device, includes that
nest or multiply without end, a last directive with no ``;``, a NUL byte in a certificate path, and
certificate files that are FIFOs, devices or too large, and a client CA file of hundreds of CAs sharing
one name, and escape sequences in the configuration's values, which are shown as ``\\xNN`` and never
reach the terminal (linkdoctor.nginx.parse, linkdoctor.nginx.certs, linkdoctor.nginx.console).

Each run is a real ``linkdoctor`` process with a time limit and an address-space limit, so a regression
fails the test instead of hanging it or filling the machine's memory."""

from __future__ import annotations

import datetime
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from linkdoctor.cli import error_line
from linkdoctor.nginx.certs import MAX_FILE_BYTES, FileReader
from linkdoctor.nginx.parse import MAX_DEPTH, NginxParseError, parse_config

MEMORY_LIMIT = 1024 * 1024 * 1024


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def lint(conf: Path, *args: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "nginx", "lint", "--nginx-version", "1.26.2", str(conf), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        preexec_fn=_limit_memory,
    )
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_error(result: tuple[int, str, str], *needles: str) -> None:
    code, stdout, stderr = result
    assert code == 3, stdout + stderr
    assert "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    for needle in needles:
        assert needle in stderr, stderr


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.conf"
    os.mkfifo(path)
    return path


def test_an_include_of_a_fifo_is_one_line_not_a_hang(tmp_path: Path, fifo: Path) -> None:
    conf = write(tmp_path / "nginx.conf", f"events {{}}\nhttp {{\n    include {fifo};\n}}\n")
    assert_one_line_error(lint(conf), f"{conf}:3:", "not a regular file")


def test_an_include_of_dev_zero_is_one_line_not_a_read_without_end(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "events {}\nhttp {\n    include /dev/zero;\n}\n")
    assert_one_line_error(lint(conf), f"{conf}:3:", "'/dev/zero': not a regular file")


def test_a_glob_matching_a_fifo_is_one_line_not_a_hang(tmp_path: Path, fifo: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "events {}\nhttp {\n    include *.conf;\n}\n")
    assert_one_line_error(lint(conf), "not a regular file", str(fifo))


def test_a_fifo_as_the_main_file_is_one_line(fifo: Path) -> None:
    assert_one_line_error(lint(fifo), "not a regular file")


def test_includes_that_multiply_stop_at_the_directive_limit(tmp_path: Path) -> None:
    # each file includes the next twice: 2**40 copies of the last one once inlined
    write(tmp_path / "nginx.conf", "events {}\nhttp {\n    include d0.conf;\n}\n")
    for level in range(40):
        write(tmp_path / f"d{level}.conf", f"include d{level + 1}.conf;\ninclude d{level + 1}.conf;\n")
    write(tmp_path / "d40.conf", "gzip on;\n")
    assert_one_line_error(lint(tmp_path / "nginx.conf"), "more than 1,000,000 directives")


def test_a_chain_of_includes_nested_in_locations_stops_at_the_depth_limit(tmp_path: Path) -> None:
    write(tmp_path / "nginx.conf", "events {}\nhttp {\n    server {\n        include c0.conf;\n    }\n}\n")
    for level in range(1200):
        write(tmp_path / f"c{level}.conf", f"location /{level} {{ include c{level + 1}.conf; }}\n")
    write(tmp_path / "c1200.conf", "return 200;\n")
    assert_one_line_error(lint(tmp_path / "nginx.conf"), f"nested more than {MAX_DEPTH} deep")


def test_blocks_nested_deeper_than_the_limit_are_one_line(tmp_path: Path) -> None:
    depth = 990
    conf = write(tmp_path / "nginx.conf", "http { " + "location / { " * depth + "}" * depth + " }\n")
    assert_one_line_error(lint(conf), f"nested more than {MAX_DEPTH} deep")


def test_a_last_directive_without_a_semicolon_says_so(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "events {}\nhttp {}\nworker_processes 2")
    with pytest.raises(NginxParseError) as caught:
        parse_config(conf)
    assert caught.value.reason == 'unexpected end of file, expecting ";" or "}"'
    assert caught.value.file == conf


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "nul"])
def test_a_certificate_path_that_cannot_be_read_is_a_finding_not_a_read_without_end(
    tmp_path: Path, target: str
) -> None:
    if target == "fifo":
        target = str(tmp_path / "ca.pem")
        os.mkfifo(target)
    elif target == "nul":
        target = "/etc/ca\x00.pem"
    conf = tmp_path / "nginx.conf"
    conf.write_bytes(
        b"events {}\nhttp {\n    server {\n        listen 443 ssl;\n"
        + f"        ssl_certificate {target};\n        ssl_certificate_key {target};\n".encode()
        + f"        ssl_client_certificate {target};\n        ssl_verify_client on;\n".encode()
        + b"    }\n}\n"
    )
    code, stdout, stderr = lint(conf, "--format", "json")
    assert code == 2, stdout + stderr
    assert "Traceback" not in stderr, stderr
    messages = [finding["message"] for finding in json.loads(stdout)["findings"]]
    assert any(target in m and "cannot be read" in m for m in messages), messages


def test_a_certificate_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "ca.pem"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    loaded = FileReader().certificates(big)
    assert loaded.problem == "cannot be read: larger than 16 MiB"


def same_named_cas(count: int) -> bytes:
    """``count`` CA certificates all named "Evil CA", none signed by another of them."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Evil CA")])
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    signers = [ec.generate_private_key(ec.SECP256R1()) for _ in range(4)]
    pem = b""
    for serial in range(1, count + 1):
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(signers[serial % len(signers)], hashes.SHA256())
        )
        pem += cert.public_bytes(serialization.Encoding.PEM)
    return pem


def test_a_client_ca_file_of_many_cas_sharing_one_name_is_linted_in_seconds(tmp_path: Path) -> None:
    # every pair of them had its signature checked, several times over: 200 took 13 s, 800 never ended
    ca = tmp_path / "client-ca.pem"
    ca.write_bytes(same_named_cas(600))
    conf = write(
        tmp_path / "nginx.conf",
        f"events {{}}\nhttp {{\n    server {{\n        listen 443 ssl;\n"
        f"        ssl_certificate {ca};\n        ssl_certificate_key {ca};\n"
        f"        ssl_client_certificate {ca};\n        ssl_verify_client on;\n    }}\n}}\n",
    )
    code, stdout, stderr = lint(conf, "--select", "LDN002,LDN004", "--format", "json")
    assert code == 2, stdout + stderr
    messages = [finding["message"] for finding in json.loads(stdout)["findings"]]
    assert any("holds the intermediate" in m and '"Evil CA"' in m for m in messages), messages


def test_an_escape_sequence_in_a_path_is_shown_not_sent_to_the_terminal(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nginx.conf",
        "events {}\nhttp {\n    server {\n        listen 443 ssl;\n"
        '        ssl_certificate "/x/\x1b]0;pwned\x07\x1b[2J.pem";\n'
        "        ssl_certificate_key /x/k.pem;\n    }\n}\n",
    )
    code, stdout, stderr = lint(conf)
    assert code == 2, stdout + stderr
    assert "\x1b" not in stdout and "\x07" not in stdout, stdout
    assert "/x/\\x1b]0;pwned\\x07\\x1b[2J.pem" in stdout.replace("\n", "").replace(" ", ""), stdout


def test_an_error_line_shows_control_characters_as_escapes() -> None:
    assert error_line("cannot read '/x/\x1b[2J\x9b.conf'\tnow") == (
        "linkdoctor: error: cannot read '/x/\\x1b[2J\\x9b.conf'\tnow"
    )
