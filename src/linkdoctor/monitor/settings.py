"""The settings store: service-wide values kept in the database, such as the secrets the web signs its
cookies with, created on first use so every ``serve`` process on one database shares them."""

from __future__ import annotations

import secrets

from linkdoctor.monitor.db import Sessions
from linkdoctor.monitor.orm import SettingRow


def secret(db: Sessions, name: str) -> str:
    """A random service-wide secret (e.g. the cookie signing key), created on first use and kept."""
    with db.session() as s:
        row = s.get(SettingRow, f"secret:{name}")
        if row is None:
            row = SettingRow(key=f"secret:{name}", value=secrets.token_urlsafe(32))
            s.add(row)
        return row.value
