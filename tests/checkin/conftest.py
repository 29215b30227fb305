"""Fixtures of the check-in tests: approved venues and phones."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

LEGACY_CODE = (
    "HKEN:0WHBvLDSaeyJtZXRhZGF0YSI6eyJ0eXBlRW4iOiJTdG9yZXMvU2hvcHBpbmcgTWFsbHMiLCJ0eXBlWmgiOiLl"
    "lYblupcv5ZWG5aC0In0sIm5hbWVaaCI6IuiNg+aWsOWkqeWcsCIsIm5hbWVFbiI6IkNpdHlXYWxrIiwidHlwZSI6Ik"
    "lNUE9SVCIsImhhc2giOiJhZGJlYzQxZjBjODI2ZTAwZjU0NWI2MDIxZWQ3MTMyNTJlNDRkMTAyMTAyZTk5MzAxYWU5"
    "NjhiZDBkMDQ1NGQzIn0="
)


@pytest.fixture()
def operator(session: Session, now: datetime) -> Any:
    """A venue operator and their principal."""
    from borderpass.identity import service as identity
    from borderpass.identity.schemas import Principal

    name = f"op-{uuid.uuid4().hex[:6]}"
    member = identity.create_staff(session, name, name, "venue_operator", "password-123", now=now)
    return Principal(kind="staff", id=member.id, role="venue_operator")


@pytest.fixture()
def make_venue(session: Session, now: datetime, operator: Any) -> Callable[..., tuple[Any, str]]:
    """Register and approve a venue; return it and its QR text."""
    from borderpass.checkin import service
    from borderpass.checkin.schemas import VenueIn

    def make(name_en: str = "Golden Dragon Restaurant", name_zh: str = "金龍酒家",
             name_zh_hans: str | None = "金龙酒家", type: str = "restaurant",
             since: datetime | None = None) -> tuple[Any, str]:
        # Approved well before the visits the tests make: a poster exists before a scan.
        when = since or now - timedelta(days=25)
        data = VenueIn(name_zh=name_zh, name_zh_hans=name_zh_hans, name_en=name_en, type=type,
                       address="G/F, 18 Sai Lau Kok Road, Tsuen Wan")
        venue = service.register_venue(session, data, operator=operator.id, now=when)
        service.approve_venue(session, venue.code, officer=uuid.uuid4(), now=when)
        return venue, service.venue_qr(session, venue.code, caller=operator)

    return make


@pytest.fixture()
def make_phone(tmp_path: Path, now: datetime) -> Callable[..., Any]:
    """A phone with its own store file, trusting the platform's venue key."""
    from borderpass.checkin import service
    from borderpass.checkin.phone import Phone

    def make(name: str = "phone", since: datetime | None = None) -> Phone:
        return Phone(tmp_path / f"{name}.sqlite3", trust=service.venue_trust(),
                     now=since or now)

    return make
