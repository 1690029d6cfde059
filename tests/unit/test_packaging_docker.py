"""The container files, checked without a Docker daemon: the Dockerfile's build stages (parsed instruction by
instruction: named stages, ``COPY --from`` naming an earlier stage, sources that exist and are not ignored,
a non-root ``USER`` and a ``HEALTHCHECK`` in the final stage) and the Compose file (it builds the image from
that Dockerfile, every service has a health check, every dependency waits for its health, and the commands
name options the CLI has).

What this cannot do: build the image or start the services (no Docker daemon, no ``docker compose`` plugin
and no ``hadolint`` on the test machines); ``docker compose config`` and ``docker build`` are the next
check where they exist.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type information

from linkdoctor.cli.serve import serve
from linkdoctor.cli.worker import worker

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ROOT_USERS = {"root", "0"}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments left out."""
    found: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return found


def stages(items: list[Instruction]) -> list[Stage]:
    result: list[Stage] = []
    for item in items:
        if item.keyword == "FROM":
            words = item.arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            assert len(words) in (1, 3), f"line {item.line}: FROM image [AS name]"
            result.append(Stage(words[0], name))
        elif result:
            result[-1].instructions.append(item)
        else:
            assert item.keyword == "ARG", f"line {item.line}: only ARG may come before the first FROM"
    return result


def flags(arguments: str) -> tuple[dict[str, str], list[str]]:
    """``--name=value`` flags and the remaining words of a COPY-like instruction."""
    words = shlex.split(arguments)
    named = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
    return named, [w for w in words if not w.startswith("--")]


def exec_form(arguments: str) -> list[str]:
    parsed = json.loads(arguments)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed)
    return parsed


def ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.removeprefix("**/")) for p in patterns)


@pytest.fixture(scope="module")
def dockerfile() -> list[Stage]:
    return stages(instructions(DOCKERFILE.read_text()))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_dockerfile_builds_in_named_stages_and_copies_only_from_earlier_ones(
    dockerfile: list[Stage],
) -> None:
    assert len(dockerfile) >= 2, "a build stage and a runtime stage"
    names = [s.name for s in dockerfile]
    assert all(names) and len(set(names)) == len(names), names
    for index, stage in enumerate(dockerfile):
        earlier = {s.name for s in dockerfile[:index]}
        for copy in stage.all("COPY"):
            named, _ = flags(copy.arguments)
            if "from" in named:
                assert named["from"] in earlier, f"line {copy.line}: COPY --from={named['from']}"
    final = dockerfile[-1]
    assert any("from" in flags(c.arguments)[0] for c in final.all("COPY")), "the runtime copies the build"
    assert not any(re.search(r"\bpip install\b", r.arguments) for r in final.all("RUN")), (
        "the runtime stage installs nothing: it copies the build stage's environment"
    )


def test_the_build_stage_installs_the_distributed_extra_from_sources_in_the_context(
    dockerfile: list[Stage],
) -> None:
    build = dockerfile[0]
    assert any("'.[distributed]'" in r.arguments for r in build.all("RUN"))
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".git", ".venv"} <= set(patterns)
    for copy in build.all("COPY"):
        named, words = flags(copy.arguments)
        assert "from" not in named
        for source in words[:-1]:
            assert (ROOT / source).exists(), f"line {copy.line}: {source} is not in the repository"
            assert not ignored(source, patterns), f"line {copy.line}: {source} is in .dockerignore"


def test_the_image_runs_as_an_unprivileged_user_with_a_health_check(dockerfile: list[Stage]) -> None:
    final = dockerfile[-1]
    users = final.all("USER")
    assert users, "the runtime stage sets a USER"
    assert users[-1].arguments.partition(":")[0] not in ROOT_USERS
    keywords = [i.keyword for i in final.instructions]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")  # what runs, runs unprivileged
    (health,) = final.all("HEALTHCHECK")
    options, _, command = health.arguments.partition("CMD")
    assert "--interval=" in options and "--timeout=" in options
    assert "/healthz" in " ".join(exec_form(command.strip()))
    assert exec_form(final.all("ENTRYPOINT")[-1].arguments) == ["linkdoctor"]


def test_compose_builds_serve_and_workers_from_the_repository_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"db", "redis", "serve", "worker"} <= set(services)
    for name in ("serve", "worker"):
        build = services[name]["build"]
        context = (COMPOSE.parent / build["context"]).resolve()
        assert context == ROOT
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
        assert "image" not in services[name] or services[name]["image"].endswith(":local")


def test_every_service_has_a_health_check_and_every_dependency_waits_for_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on with conditions, not a list"
        for dependency, how in depends.items():
            assert dependency in services
            assert how == {"condition": "service_healthy"}, f"{name} -> {dependency}: {how}"
    assert set(services["serve"]["depends_on"]) == {"db", "redis"}
    assert set(services["worker"]["depends_on"]) == {"db", "redis", "serve"}  # serve migrates first
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "linkdoctor", "worker", "--health"]


def _option_names(command: click.Command) -> set[str]:
    return {name for p in command.params for name in getattr(p, "opts", [])}


def _envvars(command: click.Command) -> set[str]:
    return {p.envvar for p in command.params if isinstance(getattr(p, "envvar", None), str)}  # type: ignore[misc]


@pytest.mark.parametrize(("service", "command"), [("serve", serve), ("worker", worker)])
def test_compose_commands_use_options_and_variables_the_cli_has(
    compose: dict[str, Any], service: str, command: click.Command
) -> None:
    spec = compose["services"][service]
    argv = spec["command"]
    assert argv[0] == service
    for word in argv[1:]:
        if word.startswith("--"):
            assert word.partition("=")[0] in _option_names(command), f"{service}: {word}"
    assert {"LINKDOCTOR_DB", "LINKDOCTOR_BROKER"} <= set(spec["environment"])
    assert {"LINKDOCTOR_DB", "LINKDOCTOR_BROKER"} <= _envvars(command)


def test_redis_refuses_writes_when_full_instead_of_evicting_queued_jobs(compose: dict[str, Any]) -> None:
    argv = compose["services"]["redis"]["command"]
    assert argv[argv.index("--maxmemory-policy") + 1] == "noeviction"
