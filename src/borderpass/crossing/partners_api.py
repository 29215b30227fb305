"""JSON endpoints of the federation: converting a partner's code, and the partners."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from borderpass.crossing import conversion
from borderpass.crossing import partners as federation
from borderpass.crossing.partner_schemas import (
    ConversionView,
    ConvertRequest,
    PartnerListsView,
    PartnerOut,
)
from borderpass.identity.caller import require
from borderpass.identity.schemas import Principal
from borderpass.kit.config import get_settings
from borderpass.kit.http import DbSession, Now

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["crossing"])

Staff = Annotated[Principal, require("border_officer", "health_officer", "supervisor")]


@router.post("/health-codes/convert", status_code=201, responses={422: {
    "description": "The code cannot be converted; the error's code says why: not_a_code, "
                   "own_code, unknown_partner, invalid_signature, lists_stale, "
                   "not_yet_valid, expired, revoked, not_green or not_today"}})
def convert(body: ConvertRequest, session: DbSession, now: Now) -> ConversionView:
    """Convert a partner jurisdiction's green code of today into this jurisdiction's code."""
    converted = conversion.convert(session, body.text, now=body.at or now)
    return ConversionView(
        text=converted.text, colour=converted.colour, issued_at=converted.issued_at,
        valid_until=converted.valid_until, issuer=get_settings().jurisdiction,
        original_issuer=converted.original_issuer,
        holder={"initials": converted.initials, "document": converted.document})


@router.get("/partners")
def partners(session: DbSession, _caller: Staff) -> list[PartnerOut]:
    """List the partner jurisdictions, the anchor pinned for each and how their last sync went."""
    return [PartnerOut(
        jurisdiction=p.jurisdiction, url=p.url, site_url=p.site_url, anchor=p.anchor,
        last_sync_at=p.last_sync_at, last_result=p.last_result,
        last_success_at=p.last_success_at,
        lists=None if p.lists is None else PartnerListsView(
            keys=p.lists.keys, trust_list_issued_at=p.lists.trust_issued_at,
            revocations_issued_at=p.lists.revocations_issued_at, through=p.lists.through,
            revoked=p.lists.revoked, rule_set=p.lists.rule_set),
    ) for p in federation.list_partners(session)]
