"""What crosses the health-code domain's boundary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from borderpass.kit.types import Instant
from borderpass.rules.schemas import StatusView

__all__ = ["CodeView", "VerifyRequest"]


class CodeView(BaseModel):
    """Today's code for the signed-in resident, with the status behind it."""

    text: str
    colour: str
    issued_at: Instant
    valid_until: Instant
    status: StatusView
    identity: Literal["claimed", "proven"] = Field(
        "proven", description="claimed: the holder's identity is not proven, and the status "
                              "rests only on what they uploaded (the code does not say so)")


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096, description="The text in the QR code")
    at: Instant | None = Field(default=None, description="Judge at this instant (default now)")


class VerifyResult(BaseModel):
    valid: bool
    result: str
    colour: str | None
    valid_until: str | None
    issued_at: str | None
    issuer: str | None
    holder: dict[str, str]
    error: str | None
    original: dict[str, str] | None = Field(
        default=None, description="For a code converted from a partner's: the original's "
                                  "issuer and hash")
    lists: dict[str, Any]
