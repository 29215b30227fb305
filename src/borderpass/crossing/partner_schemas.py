"""What crosses the federation's boundary: partners and conversions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from borderpass.kit.types import Instant

__all__ = ["ConversionView", "ConvertRequest", "PartnerListsView", "PartnerOut"]


class ConvertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096,
                      description="The text of a partner's code (its QR code)")
    at: Instant | None = Field(default=None, description="Convert at this instant (default now)")


class ConversionView(BaseModel):
    """Our code, issued in place of a partner's green code."""

    text: str = Field(description="The new code's text, for its QR code")
    colour: str
    issued_at: Instant
    valid_until: Instant
    issuer: str = Field(description="This jurisdiction, which issued the new code")
    original_issuer: str = Field(description="The partner jurisdiction that issued the original")
    holder: dict[str, str] = Field(description="What the original showed: initials and the "
                                               "masked document number")


class PartnerListsView(BaseModel):
    keys: int
    trust_list_issued_at: Instant
    revocations_issued_at: Instant
    through: int
    revoked: int
    rule_set: str | None


class PartnerOut(BaseModel):
    """A partner jurisdiction, the anchor pinned for it and how its last sync went."""

    jurisdiction: str
    url: str
    site_url: str
    anchor: str
    last_sync_at: Instant | None
    last_result: str | None
    last_success_at: Instant | None
    lists: PartnerListsView | None
