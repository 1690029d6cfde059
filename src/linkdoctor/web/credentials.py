"""The JSON shapes of the API's token and password routes (``/api/v1/tokens``, ``/api/v1/me/password``).

A token's secret appears once, in :class:`TokenOut` when it is created; listings (:class:`TokenInfo`)
never carry it, as the service stores only its hash. Expiry is an aware time in the future, at most
:data:`MAX_TOKEN_DAYS` days ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from linkdoctor.monitor.model import ApiToken

MAX_TOKEN_DAYS: Final = 3660
TokenName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$"),
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class TokenIn(BaseModel):
    """A new token: a name, and optionally when it stops working (default: when it is revoked)."""

    model_config = ConfigDict(extra="forbid")
    name: TokenName
    expires_at: AwareDatetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _within_bounds(cls, value: datetime | None) -> datetime | None:
        # Past expiries are refused by the service (its clock); here only the far end and year 9999.
        if value is not None and value > datetime.now(UTC) + timedelta(days=MAX_TOKEN_DAYS):
            raise ValueError(f"a token expires within {MAX_TOKEN_DAYS} days")
        return value


class TokenInfo(BaseModel):
    """A token as listed: never its secret."""

    id: int
    user_id: int
    username: str
    name: str
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenInfo:
        return cls(
            id=token.id,
            user_id=token.user_id,
            username=token.username,
            name=token.name,
            created_at=token.created_at,
            expires_at=token.expires_at,
        )


class TokenOut(TokenInfo):
    """A new API token: its secret is shown this once and stored only as a hash."""

    token: str


class PasswordChange(BaseModel):
    """The caller's own password change. It ends the caller's other login sessions and, unless
    ``keep_tokens``, revokes its API tokens (the token making the call included)."""

    model_config = ConfigDict(extra="forbid")
    current_password: Password
    new_password: Password = Field(min_length=8)
    keep_tokens: bool = False
