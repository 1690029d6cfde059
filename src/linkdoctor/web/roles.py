"""Who may do what in ``linkdoctor serve``: the rules of the three roles, asked by the API and the pages.

* **admin** manages users, settings, every token and every site, header and auth options included;
* **member** views every site, scans it, adds sites, and changes or removes the sites it added; it never
  sets a site's header or auth options (:data:`ADMIN_ONLY_OPTIONS`), which name server environment
  variables and server files;
* **viewer** only views.

An anonymous visitor sees nothing but the login form, unless ``--public-status`` is on: then the public
status view (site name, state, counts) too. Refusals are :class:`HTTPException` 403 with a reason.

>>> from linkdoctor.monitor.model import Role
>>> may_scan(Role.VIEWER), may_scan(Role.MEMBER)
(False, True)
"""

from __future__ import annotations

from typing import Final

from fastapi import HTTPException, status
from yarl import URL

from linkdoctor.monitor.model import Role, Site, SiteOptions, SiteSpec

# Options that make a scan send a server secret (an environment variable's value, a key) or read a server
# file: only an admin may set or change them.
ADMIN_ONLY_OPTIONS: Final = (
    "headers_env",
    "password_env",
    "cert_path",
    "key_path",
    "pkcs12_path",
    "cacert_path",
    "cert_hosts",
)


def may_scan(role: Role) -> bool:
    """Queue a scan of any site."""
    return role in (Role.ADMIN, Role.MEMBER)


def may_add_site(role: Role) -> bool:
    return role in (Role.ADMIN, Role.MEMBER)


def site_limit(role: Role, max_per_member: int) -> int | None:
    """How many sites an account of ``role`` may own at once (None: any number): a member up to
    ``max_per_member`` (0: any number), an admin any.

    >>> site_limit(Role.MEMBER, 50), site_limit(Role.ADMIN, 50), site_limit(Role.MEMBER, 0)
    (50, None, None)
    """
    return max_per_member or None if role is Role.MEMBER else None


def may_change_site(role: Role, user_id: int, site: Site) -> bool:
    """Edit or remove ``site``: an admin any site, a member the sites it added."""
    return role is Role.ADMIN or (role is Role.MEMBER and site.owner_id == user_id)


def may_manage_users(role: Role) -> bool:
    return role is Role.ADMIN


def may_see_targets(role: Role, user_id: int, site: Site) -> bool:
    """See a site's notification URLs in full (they often carry a webhook's token)."""
    return may_change_site(role, user_id, site)


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail)


def admin_only_changes(spec: SiteSpec, current: Site | None) -> list[str]:
    """The admin-only options that ``spec`` sets differently from the stored site (or from the defaults for
    a new site)."""
    before = current.spec.options if current is not None else SiteOptions()
    return [
        name
        for name in ADMIN_ONLY_OPTIONS
        if getattr(spec.options, name, None) != getattr(before, name, None)
    ]


def check_site_write(
    role: Role, user_id: int, spec: SiteSpec, current: Site | None, *, max_budget: int = 0
) -> None:
    """Refuse (403) a site add (``current`` None) or change that ``role`` may not make. ``max_budget``: the
    largest daily budget a non-admin may give a site (0: any); one an admin set before may stay, or go down."""
    if current is None and not may_add_site(role):
        raise forbidden(f"a {role.value} cannot add sites")
    if current is not None and not may_change_site(role, user_id, current):
        raise forbidden(f"a {role.value} can change only the sites it added")
    if (
        role is not Role.ADMIN
        and max_budget
        and spec.budget > max(max_budget, current.spec.budget if current is not None else 0)
    ):
        raise forbidden(
            f"a {role.value} may give a site a daily budget of at most {max_budget:,} link checks "
            f"(serve --max-member-budget {max_budget}): ask an admin for more"
        )
    if role is not Role.ADMIN and (changed := admin_only_changes(spec, current)):
        raise forbidden(f"only an admin may set header or auth options ({', '.join(changed)})")
    if role is not Role.ADMIN and current is not None and moves_credentials(spec, current):
        raise forbidden(
            "only an admin may move a site with header or auth options to another scheme, host or port "
            "(they would be sent there)"
        )


def moves_credentials(spec: SiteSpec, current: Site) -> bool:
    """Whether ``spec`` points a site that carries admin-set header or auth options at another origin.

    Those options go to the site's own host, so whoever changes the URL chooses who receives them: a
    member moving its site to a host of its own would be sent the admin's secret header or client
    certificate. A new path on the same origin is harmless.

    >>> from dataclasses import replace
    >>> from datetime import datetime
    >>> old = SiteSpec("d", "https://docs.example/", options=SiteOptions(headers_env=(("X-Token", "T"),)))
    >>> site = Site(1, old, datetime(2026, 1, 1), None)
    >>> moves_credentials(replace(old, url="https://DOCS.example:443/v2/"), site)
    False
    >>> moves_credentials(replace(old, url="https://evil.example/"), site)
    True
    """
    default = SiteOptions()
    if all(getattr(current.spec.options, name) == getattr(default, name) for name in ADMIN_ONLY_OPTIONS):
        return False
    before, after = _origin(current.spec.url), _origin(spec.url)
    return before is None or after is None or before != after


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of ``url``, with the scheme's default port filled in; None when it is no URL."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return None
    if not parsed.host:
        return None
    return parsed.scheme.lower(), parsed.host.lower(), parsed.port


def check_site_remove(role: Role, user_id: int, site: Site) -> None:
    if not may_change_site(role, user_id, site):
        raise forbidden(f"a {role.value} can remove only the sites it added")


def check_scan(role: Role) -> None:
    if not may_scan(role):
        raise forbidden(f"a {role.value} cannot start scans")


def check_admin(role: Role) -> None:
    if role is not Role.ADMIN:
        raise forbidden("only an admin may do this")
