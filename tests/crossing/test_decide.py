"""The decision at the border for journey 5's travellers: one outcome, every reason in the
officer's language, the quarantine place assigned, and a record without personal data."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from borderpass.crossing import service
from borderpass.crossing.models import CrossingDecision, QuotaBooking
from borderpass.crossing.schemas import DecisionIn
from borderpass.identity.documents import InvalidDocumentNumber
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.errors import Forbidden
from borderpass.kit.vault import document_index
from tests.crossing.conftest import CHAN, LEE, LI, Demo

Decide = Callable[..., Any]


def test_chan_tai_man_crosses_quarantine_free_on_her_booking(
    session: Session, now: datetime, demo: Demo, decide: Decide
) -> None:
    decision = decide(CHAN)
    assert decision.outcome == "quarantine_free" and decision.may_cross
    assert decision.judgement.reason_codes == [
        "code_valid", "code_holders", "code_recognised", "code_green", "checkin_14_days",
        "vaccinated", "quota_booked", "hong_kong_resident"]
    assert decision.quarantine is None
    assert decision.booking is not None
    booking = session.get(QuotaBooking, decision.booking.id)
    assert booking is not None and booking.status == "used"
    # A place serves one crossing: the next one goes to quarantine.
    again = decide(CHAN)
    assert (again.outcome, again.judgement.reason_codes) == ("quarantine", ["no_quota_booking"])


def test_lee_siu_ming_without_a_test_is_refused(demo: Demo, decide: Decide) -> None:
    decision = decide(LEE)
    assert decision.outcome == "refused" and not decision.may_cross
    assert decision.judgement.reason_codes == ["code_not_green", "checkin_days_short",
                                               "not_vaccinated"]
    assert decision.verdict.colour == "red"


def test_a_mainland_resident_with_an_emergency_endorsement_goes_to_quarantine(
    now: datetime, demo: Demo, decide: Decide
) -> None:
    without = decide(LI)
    assert (without.outcome, without.judgement.reason_codes) == ("refused", ["no_endorsement"])
    decision = decide(LI, endorsement=demo.endorsement.lower())
    assert decision.outcome == "quarantine" and decision.may_cross
    assert decision.judgement.reason_codes == ["quarantine_free_for_residents"]
    assert decision.quarantine is not None
    assert decision.quarantine.place.code == "PBH"
    assert decision.quarantine.days == 14
    assert decision.quarantine.ends_on == hk_date(now) + timedelta(days=14)
    assert decision.endorsement is not None and decision.entries_left == 1
    # A single-entry endorsement admits once.
    used = decide(LI, endorsement=demo.endorsement)
    assert (used.outcome, used.judgement.reason_codes) == ("refused", ["endorsement_not_valid"])
    assert used.entries_left == 0


@pytest.mark.parametrize(("locale", "words"), [
    ("zh_Hant", ["健康碼不是綠碼", "行程記錄少於14天", "疫苗"]),
    ("zh_Hans", ["健康码不是绿码", "行程记录少于14天", "疫苗"]),
    ("en", ["not green", "Fewer than 14 days", "vaccine doses"]),
])
def test_reasons_are_given_in_the_officers_language(
    demo: Demo, decide: Decide, locale: str, words: list[str]
) -> None:
    view = service.decision_view(decide(LEE), locale=locale)
    assert view.language == locale
    assert [reason.code for reason in view.reasons] == ["code_not_green", "checkin_days_short",
                                                        "not_vaccinated"]
    for reason, word in zip(view.reasons, words, strict=True):
        assert word in reason.message
    assert view.control_point_name == {"zh_Hant": "羅湖", "zh_Hans": "罗湖", "en": "Lo Wu"}[locale]
    assert {check.met for check in view.checks} == {True, False}


def test_the_quarantine_view_names_the_place_and_the_day(
    now: datetime, demo: Demo, decide: Decide
) -> None:
    view = service.decision_view(decide(LI, endorsement=demo.endorsement), locale="zh_Hant")
    assert view.quarantine is not None
    assert (view.quarantine.place, view.quarantine.place_name) == ("PBH", "竹篙灣檢疫中心")
    assert view.quarantine.starts_on == hk_date(now)
    assert view.endorsement is not None and view.endorsement.entries_left == 1
    # Entering Hong Kong, the endorsement's conditions for the trip apply.
    assert view.endorsement.conditions == ["出發前72小時內採樣的核酸檢測陰性報告。",
                                           "抵達後遵守目的地當時的檢疫或配額安排。"]


def test_quarantine_places_are_shared_out(demo: Demo, decide: Decide) -> None:
    # CHAN booked Lo Wu: at Shenzhen Bay she has no place, so she goes to quarantine.
    first, second, third = (decide(CHAN, point="SBC") for _ in range(3))
    assert [d.quarantine.place.code for d in (first, second, third)] == ["PBH", "DQH-KLN", "PBH"]


def test_northbound_the_quarantine_place_follows_the_control_point(
    demo: Demo, decide: Decide
) -> None:
    # LI's negative test was collected 6 hours ago: it counts as taken on arrival.
    lo_wu = decide(LI, direction="north")
    bridge = decide(LI, direction="north", point="HZM")
    assert (lo_wu.outcome, lo_wu.quarantine.place.code) == ("quarantine", "SZ-DQH")
    assert (bridge.outcome, bridge.quarantine.place.code) == ("quarantine", "ZH-DQH")


def test_a_code_must_be_the_travellers_and_valid(
    demo: Demo, decide: Decide, code_of: Callable[..., str]
) -> None:
    borrowed = decide(LEE, code=code_of(CHAN))
    assert borrowed.judgement.reason_codes[0] == "code_not_holders"
    forged = decide(CHAN, code="BPHC1:NOT-A-CODE")
    assert (forged.outcome, forged.judgement.reason_codes) == ("refused", ["code_not_valid"])
    assert forged.verdict.result == "invalid"


def test_yesterdays_code_is_not_valid_today(
    now: datetime, demo: Demo, decide: Decide, code_of: Callable[..., str]
) -> None:
    yesterday = code_of(CHAN, now - timedelta(days=1))
    decision = decide(CHAN, code=yesterday)
    assert decision.judgement.reason_codes == ["code_not_valid"]
    assert decision.verdict.reason == "expired"


def test_each_decision_is_recorded_without_personal_data(
    session: Session, now: datetime, demo: Demo, decide: Decide, staff_token: Any
) -> None:
    member, _token = staff_token("border_officer")
    officer = Principal(kind="staff", id=member.id, role=member.role)
    decision = decide(LI, endorsement=demo.endorsement, officer=officer)
    record = session.scalars(select(CrossingDecision).where(
        CrossingDecision.id == decision.record.id)).one()
    assert (record.decided_by, record.decided_role, record.channel) == (
        member.id, "border_officer", "cli")
    assert record.decided_at == record.judged_at == now
    assert (record.policy, record.policy_digest) == (
        "HK-CROSSING@1.0.0", service.active_policy(session).digest)
    assert (record.outcome, record.reasons) == ("quarantine", ["quarantine_free_for_residents"])
    assert record.document_index == document_index(*LI) and record.document_kind == "mainland"
    assert (record.endorsement, record.quarantine_place) == (demo.endorsement, "PBH")
    stored = " ".join(str(getattr(record, column.key))
                      for column in CrossingDecision.__table__.columns)
    for personal in ("430102197506151237", "43***", "LI", "李志强", "Zhiqiang"):
        assert personal not in stored.replace("HK-CROSSING", "")


def test_only_border_officers_decide(session: Session, now: datetime, demo: Demo,
                                     decide: Decide) -> None:
    clerk = Principal(kind="staff", id=uuid.uuid4(), role="help_desk")
    with pytest.raises(Forbidden):
        decide(CHAN, officer=clerk)


def test_bad_input_names_the_field(session: Session, now: datetime, demo: Demo,
                                   decide: Decide) -> None:
    with pytest.raises(service.ControlPointNotFound) as missing:
        decide(CHAN, point="XYZ")
    assert missing.value.field == "control_point"
    with pytest.raises(InvalidDocumentNumber) as wrong:
        decide(("hkid", "A123456(4)"), code="BPHC1:x")
    assert wrong.value.field == "document_number"
    with pytest.raises(InvalidDocumentNumber) as kind:
        decide(("passport", "123"), code="BPHC1:x")
    assert kind.value.field == "document_kind"
    with pytest.raises(ValueError, match="direction"):
        DecisionIn(control_point="LWU", direction="east",  # type: ignore[arg-type]
                   document_kind="hkid", document_number="A123456(3)", code="x")


def test_a_decision_at_another_instant_judges_the_code_then(
    now: datetime, demo: Demo, decide: Decide, code_of: Callable[..., str]
) -> None:
    code = code_of(CHAN)
    tonight = datetime.combine(hk_date(now), datetime.max.time(), tzinfo=HONG_KONG)
    late = decide(CHAN, code=code, at=tonight + timedelta(minutes=1))
    assert late.verdict.reason == "expired" and late.outcome == "refused"
    # On record: when it was decided, and the instant it judged.
    assert (late.record.decided_at, late.record.judged_at) == (now, tonight + timedelta(minutes=1))


def test_check_in_days_count_the_last_fourteen_days_covered(now: datetime) -> None:
    day = timedelta(days=1)
    assert service.checkin_days(now - 21 * day, now, now) == 14
    assert service.checkin_days(now - 21 * day, now - 3 * day, now) == 12
    assert service.checkin_days(now - 10 * day, now, now) == 10
    assert service.checkin_days(None, None, now) == 0
    # Uploaded last night: yesterday counts.
    assert service.checkin_days(now - 30 * day, now - timedelta(hours=12), now) == 14
