"""``linkdoctor nginx lint``: find client-certificate (mTLS) mistakes in an nginx configuration before a
reload fails or clients start getting 495/496.

The configuration is parsed with crossplane (includes and globs followed); each rule in
:mod:`linkdoctor.nginx.rules` reports :class:`LintFinding` values with a file, a line, a message and fix
steps. Certificate, key and CRL files the configuration names are read to check dates, CA flags and key
matches::

    from linkdoctor.nginx import lint_config
    report = lint_config(Path("/etc/nginx/nginx.conf"), nginx_version="1.26.2")
    report.refuses_start          # would nginx -t fail?
    report.at_or_above(Severity.WARNING)
"""

from __future__ import annotations

from linkdoctor.nginx.lint import lint_config, select_rules
from linkdoctor.nginx.model import LintFinding, LintReport, Rule
from linkdoctor.nginx.parse import NginxParseError
from linkdoctor.nginx.version import NginxVersion, detect_nginx_version

__all__ = [
    "LintFinding",
    "LintReport",
    "NginxParseError",
    "NginxVersion",
    "Rule",
    "detect_nginx_version",
    "lint_config",
    "select_rules",
]
