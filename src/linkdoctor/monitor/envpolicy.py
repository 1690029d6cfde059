"""Which of the server's environment variables a monitored site may name (``headers_env``, ``password_env``).

A site names an environment variable, and a scan sends its value (as a header) or uses it (a key's
password). Without a rule, whoever may set those options could name ``LINKDOCTOR_ADMIN_PASSWORD`` or the
database URL and have the value sent to a host of their choice. So ``serve`` lets a site name only the
variables its operator allows: the names given with ``serve --allow-env NAME``, and every name that starts
with :data:`SITE_PREFIX`. The rule is checked when a site is saved (a 422 with the reason) and again when a
scan runs (a site stored before the rule existed fails its scan and sends nothing), and a scan's process
gets only the allowed variables.

>>> policy = EnvAllowlist(frozenset({"DOCS_TOKEN"}))
>>> policy.allows("DOCS_TOKEN"), policy.allows("LINKDOCTOR_SITE_WIKI"), policy.allows("LINKDOCTOR_ADMIN_PASSWORD")
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import SiteSpec

SITE_PREFIX: Final = "LINKDOCTOR_SITE_"


@dataclass(frozen=True, slots=True)
class EnvAllowlist:
    """The variables a site may name: ``names`` exactly, or any name that starts with one of ``prefixes``."""

    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = (SITE_PREFIX,)

    def allows(self, name: str) -> bool:
        return name in self.names or any(name.startswith(p) and len(name) > len(p) for p in self.prefixes)

    def refused(self, spec: SiteSpec) -> list[str]:
        """What ``spec`` names that this list does not allow, as ``option: VARIABLE``."""
        named = [(f"headers_env {header}", variable) for header, variable in spec.options.headers_env]
        if spec.options.password_env:
            named.append(("password_env", spec.options.password_env))
        return [f"{option}: {variable}" for option, variable in named if not self.allows(variable)]

    def check(self, spec: SiteSpec) -> None:
        """Raise :class:`ConfigError` when ``spec`` names a variable this list does not allow."""
        refused = self.refused(spec)
        if refused:
            raise ConfigError(
                f"environment variables this server does not allow sites to use ({'; '.join(refused)}): "
                f"the operator allows a name with serve --allow-env NAME, and every name starting with "
                f"{' or '.join(self.prefixes) or '(no prefix)'}"
            )

    def environ(self, env: Mapping[str, str]) -> dict[str, str]:
        """The allowed variables of ``env``, and nothing else."""
        return {name: value for name, value in env.items() if self.allows(name)}
