"""The diagnosis-code catalogue (linkdoctor.classify.codes) and the code that names codes agree: every code
the source can produce is catalogued, and every catalogued code is produced somewhere. Codes only
``linkdoctor diagnose`` can name are marked so by living in ``codes_doctor`` (``DOCTOR_CODES``): the
doctor must produce them, and nothing outside it may.

The source is read with ``ast``, not imported. A code is produced where the source holds it:

* a string literal shaped like a code (``http.not-found``) in one of the catalogue's namespaces;
* a code-shaped string literal given to ``make``/``info`` or as the code of a ``Diagnosis``/``Finding``,
  whatever its namespace;
* a use (not the definition, not an import) of a module-level constant holding a code, such as
  ``codes_doctor.CLIENT_AUTH_NOT_ENFORCED`` or ``CLIENT_CERT_EXPIRED`` of ``classify/tls.py``.

The catalogue's own data modules (``classify/codes_*.py``) produce nothing: they only define.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from linkdoctor.classify.codes import CODES
from linkdoctor.classify.codes_doctor import DOCTOR_CODES

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "linkdoctor"
CATALOGUE_DATA = frozenset(
    {"codes_model.py", "codes_http.py", "codes_tls.py", "codes_doctor.py", "codes_crawl.py"}
)
DOCTOR_PACKAGE = PACKAGE / "doctor"
CODE_SHAPE = re.compile(r"^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$")
NAMESPACES = frozenset(code.partition(".")[0] for code in CODES)
# Strings in a code namespace that are not codes, and what they are.
NOT_CODES = {
    "tls.client": "the [[tls.client]] table of a config file",
    "tls.client-cert": "the prefix of the client-certificate codes, matched with startswith",
    "http.request": "an ASGI message type (linkdoctor.web.limits)",
    "http.disconnect": "an ASGI message type (linkdoctor.web.limits)",
}
# Calls whose first argument is a code, and the value types whose ``code`` is one.
CODE_CALLS = frozenset({"make", "info"})
CODE_VALUES = frozenset({"Diagnosis", "Finding"})


@dataclass(frozen=True, slots=True)
class Use:
    """One place the source names a code."""

    code: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.code} ({self.path.relative_to(PACKAGE.parent)}:{self.line})"


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _is_catalogue(path: Path) -> bool:
    return path.parent.name == "classify" and path.name in CATALOGUE_DATA


def _constant_definitions(tree: ast.Module) -> dict[ast.Constant, str]:
    """Module-level ``NAME = "x.y"`` (or ``NAME: Final = "x.y"``) of any code-shaped string: the literal
    node and its name."""
    found: dict[ast.Constant, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and CODE_SHAPE.match(value.value)
        ):
            found[value] = target.id
    return found


def _in_namespace(text: str) -> bool:
    return bool(CODE_SHAPE.match(text)) and text.partition(".")[0] in NAMESPACES and text not in NOT_CODES


def _called_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _code_arguments(node: ast.Call) -> Iterator[ast.expr]:
    """The arguments of a call that hold a code: the first one and ``code=``."""
    if _called_name(node) in CODE_CALLS | CODE_VALUES:
        yield from node.args[:1]
        yield from (k.value for k in node.keywords if k.arg == "code")


def _scan() -> tuple[dict[str, list[Use]], set[str]]:
    """Every code the source produces, with the places it does; and the codes that constants hold."""
    modules = list(_modules())
    constants: dict[str, set[str]] = defaultdict(set)
    definitions: dict[Path, dict[ast.Constant, str]] = {}
    for path, tree in modules:
        definitions[path] = _constant_definitions(tree)
        for literal, name in definitions[path].items():
            constants[name].add(str(literal.value))
    uses: dict[str, list[Use]] = defaultdict(list)
    for path, tree in modules:
        if _is_catalogue(path):
            continue
        calls = (node for node in ast.walk(tree) if isinstance(node, ast.Call))
        code_position = {id(arg) for call in calls for arg in _code_arguments(call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node in definitions[path]:
                    continue
                shaped = id(node) in code_position and CODE_SHAPE.match(node.value)
                if _in_namespace(node.value) or shaped:
                    uses[node.value].append(Use(node.value, path, node.lineno))
            elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
                name = node.id if isinstance(node, ast.Name) else node.attr
                for code in constants.get(name, ()):
                    if _in_namespace(code) or id(node) in code_position:
                        uses[code].append(Use(code, path, node.lineno))
    return uses, {code for held in constants.values() for code in held if _in_namespace(code)}


USES, DEFINED = _scan()


def _produced(*, doctor: bool | None = None) -> set[str]:
    """The codes produced anywhere (``doctor`` None), only inside the doctor package, or outside it."""
    return {
        code
        for code, uses in USES.items()
        if doctor is None or any(use.path.is_relative_to(DOCTOR_PACKAGE) == doctor for use in uses)
    }


def test_the_scan_finds_codes_made_by_literal_and_through_constants() -> None:
    # Guards the scanner itself: one code of each way the source names codes.
    assert "http.not-found" in USES  # a literal in classify/http.py's status table
    assert "robots.disallowed" in USES  # codes.make("robots.disallowed") in the crawler
    assert "tls.client-cert-expired" in USES  # CLIENT_CERT_EXPIRED of classify/tls.py, used by name
    assert "tls.client-auth-not-enforced" in USES  # a codes_doctor constant, used by the doctor


def test_every_code_the_source_produces_is_in_the_catalogue() -> None:
    unknown = [str(use) for code, uses in sorted(USES.items()) if code not in CODES for use in uses]
    assert unknown == []


def test_every_catalogued_code_is_produced_somewhere() -> None:
    assert sorted(set(CODES) - _produced()) == []


def test_doctor_only_codes_are_produced_by_the_doctor_and_nowhere_else() -> None:
    assert sorted(set(DOCTOR_CODES) - _produced(doctor=True)) == []
    outside = [
        str(use)
        for code in DOCTOR_CODES
        for use in USES.get(code, ())
        if not use.path.is_relative_to(DOCTOR_PACKAGE)
    ]
    assert outside == []


def test_code_constants_hold_catalogued_codes() -> None:
    assert sorted(DEFINED - set(CODES)) == []


@pytest.mark.parametrize("text", sorted(NOT_CODES))
def test_strings_listed_as_not_codes_are_not_catalogued(text: str) -> None:
    assert text not in CODES
