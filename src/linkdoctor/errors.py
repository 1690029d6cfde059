"""The exception tree. Exceptions are for bad configuration and bugs, never for broken links.

Every ``LinkdoctorError`` carries a message the CLI prints without a traceback, and an exit code.
"""

from __future__ import annotations


class LinkdoctorError(Exception):
    """Base of all errors linkdoctor raises on purpose."""

    exit_code = 1


class ConfigError(LinkdoctorError):
    """Bad usage, configuration or input that the user must correct (exit code 3)."""

    exit_code = 3


class CertificateError(ConfigError):
    """A client certificate, key or CA file that cannot be used (wrong password, mismatch, not a certificate)."""
