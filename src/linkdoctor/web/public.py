"""Output shapes that show less than the service's values: the public status view (a site's name, state
and last counts, nothing else), notification targets hidden from those who may not change a site, and the
accounts of the users API.

The public view is built from an allowlist of fields, not by redacting a full site: a field added to a
site later stays private until someone adds it here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from yarl import URL

from linkdoctor.monitor.model import Role, SiteOverview, SiteStatus, User
from linkdoctor.web.schemas import SiteOut


class PublicCounts(BaseModel):
    """A scan's links per category."""

    total: int
    ok: int
    redirected: int
    broken: int
    excluded: int
    unverified: int


class PublicSite(BaseModel):
    """One site in the public status view."""

    id: int
    name: str
    status: SiteStatus
    broken: int
    counts: PublicCounts | None
    last_scan_at: datetime | None


def public_sites(overviews: list[SiteOverview]) -> list[PublicSite]:
    return [
        PublicSite(
            id=o.site.id,
            name=o.site.name,
            status=o.status,
            broken=o.broken,
            counts=None if o.last_scan is None else _counts(o),
            last_scan_at=None if o.last_scan is None else (o.last_scan.finished_at or o.last_scan.queued_at),
        )
        for o in overviews
    ]


def _counts(overview: SiteOverview) -> PublicCounts:
    assert overview.last_scan is not None
    c = overview.last_scan.counts
    return PublicCounts(
        total=c.total,
        ok=c.ok,
        redirected=c.redirected,
        broken=c.broken,
        excluded=c.excluded,
        unverified=c.unverified,
    )


def target_kind(url: str) -> str:
    """A notification URL reduced to its scheme, which names the service and no secret.

    >>> target_kind("slack://T000/B000/XXXX"), target_kind("not a url")
    ('slack://***', '***')
    """
    try:
        scheme = URL(url).scheme
    except (ValueError, TypeError):
        scheme = ""
    return f"{scheme}://***" if scheme.isalnum() else "***"


def hide_targets(site: SiteOut) -> SiteOut:
    return site.model_copy(update={"notify": [target_kind(u) for u in site.notify]})


UserName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class UserIn(BaseModel):
    """A new account (the password rules are the service's: at least 8 characters)."""

    model_config = ConfigDict(extra="forbid")
    username: UserName
    password: Password
    role: Role = Role.MEMBER


class UserOut(BaseModel):
    id: int
    username: str
    role: Role
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, username=user.username, role=user.role, created_at=user.created_at)
