"""Demo data, loaded through the services: residents, a laboratory, a registry, officers,
and the crossing of journey 5 (control points, a week of quarantine-free places, CHAN Tai
Man's uploaded records and booking, LI Zhiqiang's approved emergency endorsement)."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from borderpass.checkin import service as checkin
from borderpass.checkin.phone import Phone
from borderpass.crossing import service as crossing
from borderpass.crossing.schemas import BookingIn, QuotaIn
from borderpass.evidence import service as evidence
from borderpass.identity import service as identity
from borderpass.identity.schemas import Principal, RegistrationDetails
from borderpass.kit.clock import hk_date
from borderpass.kit.errors import Conflict
from borderpass.permits import service as permits
from borderpass.permits.schemas import ApplicationIn, EvidenceMarkIn, OfficeIn, SlotsIn
from borderpass.permits.schemas import DecisionIn as PermitDecision

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
    hrp: str | None
    phone: str
    address: str
    locale: str = "zh_Hant"


RESIDENTS = (
    DemoResident("陳大文", "CHAN Tai Man", "hkid", "A123456(3)", "H12345678", "+85291234567",
                 "Flat A, 12/F, 1 Demo Road, Tsuen Wan, New Territories"),
    DemoResident("李小明", "LEE Siu Ming", "hkid", "Z437626(A)", "H87654321", "+85261234567",
                 "Flat B, 3/F, 2 Sample Street, Mong Kok, Kowloon"),
    # A mainland resident (journey 4's Mr Li) registered with the Health Code for his visit.
    DemoResident("李志强", "LI Zhiqiang", "mainland", "430102197506151237", None,
                 "+8613800138000", "Room 1203, 8 Sample Road, Yau Ma Tei, Kowloon", "zh_Hans"),
)
CHAN, LEE, LI = RESIDENTS
LI_PERMIT = "C98765432"
QUOTA_PLACES = 50
QUOTA_DAYS = 7
PERMIT_OFFICE = "DG-DEMO"
PERMIT_DAYS = 14
PERMIT_PLACES = 5


def _fresh_tests(session: Session, lab_id: uuid.UUID, now: datetime) -> list[str]:
    """Give CHAN Tai Man and LI Zhiqiang a negative PCR test unless theirs is under 24 hours
    old; return who got one."""
    collected = now - timedelta(hours=6)
    rows = []
    for number, resident in enumerate((CHAN, LI), 1):
        latest = evidence.latest_test_collected(session, resident.kind, resident.number,
                                                "negative")
        if latest is not None and now - latest < timedelta(hours=24):
            continue
        specimen = f"DEMO-{collected:%Y%m%d%H%M%S}" + (f"-{number}" if number > 1 else "")
        rows.append((resident, f"{specimen},{resident.kind},{resident.number},"
                               f"{collected.isoformat()},"
                               f"{(collected + timedelta(hours=4)).isoformat()},PCR,negative,"
                               "Demo Laboratory\n"))
    if not rows:
        return []
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,result,"
             "lab\n" + "".join(row for _resident, row in rows))
    evidence.ingest(session, lab_id, "tests", batch.encode(), "csv", now=now)
    return [resident.name_en for resident, _row in rows]


def _endorsement(session: Session, now: datetime) -> str:
    """Take LI Zhiqiang's application for an emergency endorsement to visit his critically
    ill brother through the exit-entry hall: booked, evidence seen, approved."""
    officer = identity.staff_principal(session, "exitentry")
    _permit_office(session, now)
    slot = permits.list_slots(session, PERMIT_OFFICE, hk_date(now) + timedelta(days=1))[0]
    application, _token, _expires = permits.create_application(session, ApplicationIn(
        mainland_id=LI.number, name=LI.name_zh, phone=LI.phone, permit_number=LI_PERMIT,
        kind="emergency", destination="HK", reason="visit_critically_ill",
        relationship="sibling", locale="zh_Hans"), now=now)
    applicant = Principal(kind="applicant", id=application.id, role="applicant")
    permits.book(session, application.id, slot.id, caller=applicant, now=now)
    for check in permits.application_view(session, application).checklist:
        permits.mark_evidence(session, application.id, check.item, EvidenceMarkIn(state="seen"),
                              officer=officer, now=now)
    permits.decide(session, application.id, PermitDecision(outcome="approve"), officer=officer,
                   now=now)
    endorsement = permits.application_view(session, application).endorsement
    assert endorsement is not None  # noqa: S101 - an approval issues it
    return endorsement.number


def _permit_office(session: Session, now: datetime) -> list[str]:
    """Keep the demo's exit-entry office open with slots on each of the next
    ``PERMIT_DAYS`` days, so that an applicant can book at once; return what was added."""
    said = []
    if PERMIT_OFFICE not in {office.code for office in permits.list_offices(session)}:
        permits.create_office(session, OfficeIn(
            code=PERMIT_OFFICE, name="东莞市出入境接待大厅（示范）",
            address="东莞市南城区示范路1号"), now=now)
        said.append(f"exit-entry office {PERMIT_OFFICE}")
    officer = identity.staff_principal(session, "exitentry")
    today = hk_date(now)
    added = 0
    for offset in range(1, PERMIT_DAYS + 1):
        day = today + timedelta(days=offset)
        # A day with slots keeps them (an officer may have changed them or booked).
        if permits.list_slots(session, PERMIT_OFFICE, day):
            continue
        permits.publish_slots(session, PERMIT_OFFICE, SlotsIn(
            day=day, opens="09:00", closes="12:00", minutes=30, capacity=PERMIT_PLACES),
            officer=officer, now=now)
        added += 1
    if added:
        said.append(f"appointment slots at {PERMIT_OFFICE} on {added} of the next "
                    f"{PERMIT_DAYS} days")
    return said


def _upload_checkins(session: Session, person_id: uuid.UUID, now: datetime) -> None:
    """Upload, with consent, the records of a phone in use for the last 21 days."""
    with tempfile.TemporaryDirectory() as folder:
        phone = Phone(Path(folder) / "phone.sqlite3", now=now - timedelta(days=21))
        for days_ago, plate in ((12, "AB1234"), (5, "CD5678"), (1, "EF9012")):
            ride = now - timedelta(days=days_ago)
            phone.check_in_taxi(plate, now=ride)
            phone.check_out(now=ride + timedelta(minutes=25))
        bundle = phone.upload_bundle(now=now)
    checkin.receive_upload(session, person_id, bundle, consent=True, now=now)


def _crossing(session: Session, now: datetime) -> list[str]:
    """Keep journey 5 playable today: control points, the next week's quarantine-free
    places, CHAN Tai Man's fresh upload and her place at Lo Wu today."""
    said = []
    opened = crossing.ensure_control_points(session, now=now)
    if opened:
        said.append(f"control points {', '.join(opened)}")
    today = hk_date(now)
    added = 0
    for point in crossing.list_control_points(session):
        held = {row.day for row in crossing.quotas(session, point.code, today, QUOTA_DAYS)}
        missing = [offset for offset in range(QUOTA_DAYS)
                   if today + timedelta(days=offset) not in held]
        # Days already set keep their places (an officer may have changed them); each run
        # of days not set yet gets the demo's places.
        runs: list[list[int]] = []
        for offset in missing:
            if runs and runs[-1][-1] == offset - 1:
                runs[-1].append(offset)
            else:
                runs.append([offset])
        for run in runs:
            crossing.set_quota(session, QuotaIn(
                control_point=point.code, day=today + timedelta(days=run[0]), days=len(run),
                places=QUOTA_PLACES), officer=None, now=now)
        added += len(missing)
    if added:
        said.append(f"{QUOTA_PLACES} quarantine-free places a day at each control point, "
                    f"{added} control-point days set")
    chan = identity.find_person(session, CHAN.kind, CHAN.number)
    if chan is None:
        return said
    uploaded = checkin.upload_facts(session, chan.id, now=now).uploaded_at
    if uploaded is None or now - uploaded > timedelta(hours=20):
        _upload_checkins(session, chan.id, now)
        said.append("CHAN Tai Man uploaded 21 days of check-in records")
    resident = Principal(kind="resident", id=chan.id, role="resident")
    try:
        booking = crossing.book(session, BookingIn(control_point="LWU", day=today),
                                caller=resident, now=now)
    except (crossing.AlreadyBooked, crossing.QuotaFull):
        return said
    said.append(f"CHAN Tai Man booked a quarantine-free place at Lo Wu today ({booking.reference})")
    return said


def load(session: Session, *, now: datetime) -> list[str]:
    """Load the demo data once, and keep its tests, uploads, quotas and booking fresh on
    later loads; return lines saying what was created."""
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
        if lab_source is not None:
            said += [f"{name} has a new negative PCR test collected 6 hours ago"
                     for name in _fresh_tests(session, lab_source.id, now)]
        said += _crossing(session, now)
        said += _permit_office(session, now)
        return said or ["demo data already loaded"]
    for resident in RESIDENTS:
        registration = identity.start_registration(session, now=now)
        details = RegistrationDetails(
            name_zh=resident.name_zh, name_en=resident.name_en, document_kind=resident.kind,
            document_number=resident.number, document_issued_on=now.date() - timedelta(days=3000),
            hrp_number=resident.hrp, will_cross=resident.hrp is not None, phone=resident.phone,
            address=resident.address, password=DEMO_PASSWORD, locale=resident.locale,
        )
        identity.submit_registration(session, registration.id, details, DEMO_PROOF, now=now,
                                     send_pin=False)
        assert helpdesk_id is not None  # noqa: S101 - created above on first load
        identity.activate_by_officer(session, registration.id, officer=helpdesk_id, now=now)
        said.append(f"resident {resident.name_en} ({resident.kind}), password {DEMO_PASSWORD}")
    _fresh_tests(session, lab.id, now)
    header = "document_kind,document_number,dose_number,product,vaccinated_on,provider\n"
    vaccinations = header + "".join(
        f"hkid,{CHAN.number},{dose},Comirnaty,{(now - timedelta(days=days)).date()},"
        "Community Vaccination Centre\n"
        for dose, days in ((1, 300), (2, 270), (3, 45))
    )
    evidence.ingest(session, _registry.id, "vaccinations", vaccinations.encode(), "csv", now=now)
    said.append("CHAN Tai Man has a negative PCR test collected 6 hours ago and three doses")
    said.append("LEE Siu Ming has no test")
    said.append(f"LI Zhiqiang (mainland) has a negative PCR test and an approved emergency "
                f"endorsement {_endorsement(session, now)}")
    said.append(f"exit-entry office {PERMIT_OFFICE} with appointment slots on each of the "
                f"next {PERMIT_DAYS} days")
    said += _crossing(session, now)
    return said
