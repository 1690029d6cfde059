"""The shape of one HTTP status registry entry, shared by the data modules and :mod:`.statuses`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Origin(StrEnum):
    """Who defines a status code: the IANA registry (``standard``) or the vendor that uses it."""

    STANDARD = "standard"
    NGINX = "nginx"
    CLOUDFLARE = "cloudflare"
    IIS = "iis"
    AWS = "aws-elb"
    LINKEDIN = "linkedin"
    APACHE = "apache"
    LARAVEL = "laravel"
    TWITTER = "twitter"
    SHOPIFY = "shopify"
    MICROSOFT = "microsoft"
    ESRI = "esri"
    QUALYS = "qualys"
    PROXY = "proxy"
    """Informal codes used by several HTTP proxies and client libraries, not one vendor."""
    UNASSIGNED = "unassigned"
    """Not registered and not in known use; explained by its class."""


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """What an HTTP status code means, its usual causes, and what the client and the operator can do.

    ``reference`` is an RFC section or the vendor's documentation; ``example`` is an optional config
    snippet or command (for example an nginx server block).
    """

    code: int
    name: str
    origin: Origin
    reference: str
    meaning: str
    causes: tuple[str, ...]
    client_fix: tuple[str, ...]
    operator_fix: tuple[str, ...]
    example: str = ""
