"""Demo data: two residents, a laboratory, a registry and officers, loaded through services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from borderpass.evidence import service as evidence
from borderpass.identity import service as identity
from borderpass.identity.schemas import RegistrationDetails
from borderpass.kit.errors import Conflict

__all__ = ["DEMO_PASSWORD", "DEMO_STAFF", "load"]

DEMO_PASSWORD = "borderpass-demo"  # noqa: S105 - a published demo password, not a secret
DEMO_STAFF = (
    ("officer", "Demo Health Officer", "health_officer"),
    ("border", "Demo Border Officer", "border_officer"),
    ("helpdesk", "Demo Help Desk", "help_desk"),
    ("exitentry", "Demo Exit-Entry Officer", "exit_entry_officer"),
    ("supervisor", "Demo Supervisor", "supervisor"),
)

# A one-page PDF, the smallest a reader accepts, standing in for an electricity bill.
DEMO_PROOF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class DemoResident:
    name_zh: str
    name_en: str
    kind: str
    number: str
    hrp: str
    phone: str
    address: str


RESIDENTS = (
    DemoResident("陳大文", "CHAN Tai Man", "hkid", "A123456(3)", "H12345678", "+85291234567",
                 "Flat A, 12/F, 1 Demo Road, Tsuen Wan, New Territories"),
    DemoResident("李小明", "LEE Siu Ming", "hkid", "Z437626(A)", "H87654321", "+85261234567",
                 "Flat B, 3/F, 2 Sample Street, Mong Kok, Kowloon"),
)


def _fresh_test(session: Session, lab_id: uuid.UUID, now: datetime) -> bool:
    """Give the first demo resident a negative PCR test unless one is under 24 hours old."""
    resident = RESIDENTS[0]
    latest = evidence.latest_test_collected(session, resident.kind, resident.number, "negative")
    if latest is not None and now - latest < timedelta(hours=24):
        return False
    collected = now - timedelta(hours=6)
    batch = (
        "specimen_id,document_kind,document_number,collected_at,reported_at,method,result,lab\n"
        f"DEMO-{collected:%Y%m%d%H%M%S},{resident.kind},{resident.number},"
        f"{collected.isoformat()},{(collected + timedelta(hours=4)).isoformat()},PCR,negative,"
        "Demo Laboratory\n"
    )
    evidence.ingest(session, lab_id, "tests", batch.encode(), "csv", now=now)
    return True


def load(session: Session, *, now: datetime) -> list[str]:
    """Load the demo data once; return lines saying what was created."""
    said: list[str] = []
    helpdesk_id = None
    for username, display, role in DEMO_STAFF:
        try:
            member = identity.create_staff(session, username, display, role, DEMO_PASSWORD, now=now)
            said.append(f"staff {username} ({role}), password {DEMO_PASSWORD}")
        except Conflict:
            continue
        if role == "help_desk":
            helpdesk_id = member.id
    lab_key = registry_key = None
    try:
        lab, lab_key = evidence.create_source(session, "Demo Laboratory", "lab", now=now)
        _registry, registry_key = evidence.create_source(session, "Demo Vaccine Registry",
                                                         "registry", now=now)
        said.append(f"lab 'Demo Laboratory' API key {lab_key}")
        said.append(f"registry 'Demo Vaccine Registry' API key {registry_key}")
    except Conflict:
        lab_source = evidence.find_source(session, "Demo Laboratory")
        if lab_source is not None and _fresh_test(session, lab_source.id, now):
            said.append("CHAN Tai Man has a new negative PCR test collected 6 hours ago")
        return said or ["demo data already loaded"]
    for resident in RESIDENTS:
        registration = identity.start_registration(session, now=now)
        details = RegistrationDetails(
            name_zh=resident.name_zh, name_en=resident.name_en, document_kind=resident.kind,
            document_number=resident.number, document_issued_on=now.date() - timedelta(days=3000),
            hrp_number=resident.hrp, will_cross=True, phone=resident.phone,
            address=resident.address, password=DEMO_PASSWORD, locale="zh_Hant",
        )
        identity.submit_registration(session, registration.id, details, DEMO_PROOF, now=now)
        assert helpdesk_id is not None  # noqa: S101 - created above on first load
        identity.activate_by_officer(session, registration.id, officer=helpdesk_id, now=now)
        said.append(f"resident {resident.name_en} ({resident.kind}), password {DEMO_PASSWORD}")
    _fresh_test(session, lab.id, now)
    header = "document_kind,document_number,dose_number,product,vaccinated_on,provider\n"
    vaccinations = header + "".join(
        f"hkid,{RESIDENTS[0].number},{dose},Comirnaty,{(now - timedelta(days=days)).date()},"
        "Community Vaccination Centre\n"
        for dose, days in ((1, 300), (2, 270), (3, 45))
    )
    evidence.ingest(session, _registry.id, "vaccinations", vaccinations.encode(), "csv", now=now)
    said.append("CHAN Tai Man has a negative PCR test collected 6 hours ago and three doses")
    said.append("LEE Siu Ming has no test")
    return said
