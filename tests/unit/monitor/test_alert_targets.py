"""Alert targets under the SSRF guard, without sockets: which targets are refused when they are added
(DNS answers injected), and what the guarded sender's child process may see of the server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import ip_network

import pytest

from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.errors import ConfigError
from linkdoctor.monitor.alerts import check_target
from linkdoctor.monitor.sender import child_environment


def guard(answers: Mapping[str, Sequence[str]], allow: str = "192.0.2.0/24") -> SSRFGuard:
    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in answers:
            raise OSError(f"no answer for {host}")
        return answers[host]

    return SSRFGuard(allow=[ip_network(allow)], resolve=resolve)


@pytest.mark.parametrize(
    "target",
    [
        "json://127.0.0.2:8080/hook",
        "form://user:pw@127.0.0.2/hook",
        "xml://[::1]:8080/hook",
        "jsons://[2002:7f00:1::1]/hook",
        "mailto://ops@127.0.0.2?from=a@example.org",
        "mailto://ops@mail.example.org?smtp=10.0.0.5",
        "json://rebind.example/hook",
        "ntfy://localhost/topic",
    ],
)
def test_a_target_on_a_forbidden_address_or_name_is_refused(target: str) -> None:
    answers = {"rebind.example": ["93.184.216.34", "10.1.2.3"], "localhost": ["127.0.0.1"]}
    answers |= {"mail.example.org": ["93.184.216.35"]}
    with pytest.raises(ConfigError, match=r"notification target .*refused by the SSRF guard"):
        check_target(target, guard(answers))


@pytest.mark.parametrize(
    "target",
    [
        "json://hooks.example.org/x",  # public answers
        "json://192.0.2.10:9/x",  # allowlisted
        "slack://T0AAAAAAA/B0BBBBBBB/token",  # the host part is a token, not a server
        "discord://1234567/token",
        "json://unresolved.example/x",  # vetted at delivery instead
        "json://hooks.example.invalid/x",  # never resolves (RFC 6761): not even asked
    ],
)
def test_a_target_on_a_public_or_allowlisted_address_is_accepted(target: str) -> None:
    check_target(target, guard({"hooks.example.org": ["93.184.216.34"]}))


def test_the_refusal_names_the_host_but_not_the_password() -> None:
    with pytest.raises(ConfigError) as refused:
        check_target("json://hook:s3cret@127.0.0.2/x", guard({}))
    assert "json://127.0.0.2" in str(refused.value) and "s3cret" not in str(refused.value)


def test_the_sender_gets_no_server_secret_from_the_environment() -> None:
    server = {
        "PATH": "/usr/bin",
        "HTTPS_PROXY": "http://proxy.example:3128",
        "LINKDOCTOR_ADMIN_PASSWORD": "hunter2",
        "DATABASE_URL": "postgresql://ld:pw@db/ld",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    assert child_environment(server) == {"PATH": "/usr/bin", "HTTPS_PROXY": "http://proxy.example:3128"}
