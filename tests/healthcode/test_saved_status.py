"""The code page shows the saved status while it provably holds, and evaluates the status
again from the evidence as soon as it may not: the person's evidence changed, the rule
set or the high-risk areas changed, or the clock passed an instant where the status or
the facts it came from change."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import pytest

from borderpass.evidence import facts as facts_module
from borderpass.evidence import service as evidence
from borderpass.evidence.schemas import CheckinExposure, FlagIn, HighRiskAreaIn, TravelRecordIn
from borderpass.healthcode import views
from borderpass.healthcode.models import PersonStatus
from borderpass.kit import jobs
from borderpass.kit.config import get_settings
from borderpass.rules import service as rules
from tests.healthcode.test_pages import negative_test, sign_in_resident
from tests.web.test_pages import english

H = timedelta(hours=1)
D = timedelta(days=1)


def colour(page: Any) -> str:
    assert page.status_code == 200, page.text
    found = re.search(r'class="code (green|amber|red)"', page.text)
    assert found is not None, page.text
    return found.group(1)


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Count how many times someone's facts are read from their evidence."""
    calls: list[int] = []
    original = facts_module._facts_of_chunk

    def counted(session: Any, ids: list[uuid.UUID], now: datetime, *rest: Any) -> Any:
        calls.append(len(ids))
        return original(session, ids, now, *rest)

    monkeypatch.setattr(facts_module, "_facts_of_chunk", counted)

    def count() -> int:
        found = len(calls)
        calls.clear()
        return found

    return count


@pytest.fixture()
def resident(client: Any, register_person: Any, lab: Any, session: Any, now: datetime) -> Any:
    """A resident signed in on the site, green on a negative test collected 44 hours ago
    (the code turns red 4 hours from ``now``, at 14:00 in Hong Kong: the same day)."""
    english(client)
    person = register_person()
    negative_test(session, lab, now, hours_ago=44)
    sign_in_resident(client)
    return person


def test_views_show_the_saved_status_until_its_time_comes(
        client: Any, app: Any, resident: Any, session: Any, now: datetime,
        reads: Callable[[], int]) -> None:
    assert colour(client.get("/code")) == "green"  # the first view evaluates and issues
    assert reads() == 1
    saved = session.get(PersonStatus, resident.id)
    assert (saved.fresh_until, saved.changes_at) == (now + 4 * H, now + 4 * H)

    app.state.now = now + H
    assert colour(client.get("/code")) == "green"
    app.state.now = now + 4 * H - timedelta(seconds=1)
    assert colour(client.get("/code")) == "green"
    assert reads() == 0  # the saved status, read from no evidence

    app.state.now = now + 4 * H  # the negative test is 48 hours old
    page = client.get("/code")
    assert colour(page) == "red"
    assert "No negative test collected within the last 48 hours." in page.text
    assert reads() == 1
    app.state.now = now + 5 * H
    assert colour(client.get("/code")) == "red"
    assert reads() == 0


def test_a_flag_turns_the_next_view_red(
        client: Any, app: Any, resident: Any, session: Any, now: datetime,
        reads: Callable[[], int]) -> None:
    assert colour(client.get("/code")) == "green"
    evidence.record_flag(session, FlagIn(document_kind="hkid", document_number="A123456(3)",
                                         kind="confirmed", starts_at=now - H),
                         officer=uuid.uuid4(), now=now + H)
    app.state.now = now + 2 * H
    page = client.get("/code")
    assert colour(page) == "red"
    assert "Follow the instructions of the health officers." in page.text


def test_a_change_left_to_a_job_is_not_taken_from_the_saved_status(
        client: Any, app: Any, resident: Any, session: Any, now: datetime,
        reads: Callable[[], int], monkeypatch: pytest.MonkeyPatch) -> None:
    assert colour(client.get("/code")) == "green"
    monkeypatch.setattr(get_settings(), "reevaluate_inline_max", 0)
    jobs.clear()
    try:
        # Re-evaluation is queued, not done: the saved green status stays as it was...
        evidence.record_flag(session, FlagIn(document_kind="hkid",
                                             document_number="A123456(3)",
                                             kind="confirmed", starts_at=now - H),
                             officer=uuid.uuid4(), now=now + H)
        saved = session.get(PersonStatus, resident.id)
        session.refresh(saved)
        assert (saved.colour, saved.fresh_until) == ("green", None)
        # ...and the next view evaluates the status from the evidence.
        reads()
        app.state.now = now + 2 * H
        assert colour(client.get("/code")) == "red"
        assert reads() == 1
    finally:
        jobs.clear()


def test_a_rule_set_switched_is_applied_at_the_next_view(
        client: Any, app: Any, resident: Any, session: Any, now: datetime,
        reads: Callable[[], int]) -> None:
    assert colour(client.get("/code")) == "green"
    document = json.loads(resources.files("borderpass.rules").joinpath(
        "data", "hong_kong.json").read_text())
    document["Version"] = "1.0.1"
    for rule in document["Rules"]:
        if rule["Identifier"] == "HK-RED-TEST-48H":  # a negative test counts for 24 hours
            text = json.dumps(rule["Logic"]).replace(
                '{"var": "payload.tests.lastNegative"}, 48, "hour"',
                '{"var": "payload.tests.lastNegative"}, 24, "hour"')
            assert "24" in text
            rule["Logic"] = json.loads(text)
    stricter = rules.load(session, json.dumps(document), officer=None, now=now + H,
                          activate_now=True)
    app.state.now = now + 2 * H
    assert colour(client.get("/code")) == "red"
    assert reads() >= 1

    # Back to the packaged rules' version: the status saved under the other is not used.
    default = rules.load(session, resources.files("borderpass.rules").joinpath(
        "data", "hong_kong.json").read_text().replace('"Version": "1.0.0"',
                                                      '"Version": "1.0.2"'),
        officer=None, now=now + 3 * H, activate_now=True)
    assert stricter.id != default.id
    reads()
    app.state.now = now + 3 * H
    assert colour(client.get("/code")) == "green"
    assert reads() == 1


def test_a_high_risk_area_declared_reaches_the_next_view(
        client: Any, app: Any, resident: Any, session: Any, now: datetime,
        reads: Callable[[], int]) -> None:
    officer = uuid.uuid4()
    evidence.record_travel(session, TravelRecordIn(
        document_kind="hkid", document_number="A123456(3)", region_code="CN-GD-SZ",
        at=now - 2 * D), officer=officer, now=now)
    assert colour(client.get("/code")) == "green"
    app.state.now = now + H
    assert colour(client.get("/code")) == "green"
    reads()
    # A declaration names no one (no EvidenceChanged): the travel record it makes a
    # high-risk visit must still be seen.
    evidence.record_high_risk_area(session, HighRiskAreaIn(
        region_code="CN-GD", name_en="Guangdong", name_zh="廣東", starts_at=now - 20 * D),
        officer=officer, now=now + H)
    app.state.now = now + 2 * H
    page = client.get("/code")
    assert colour(page) == "red"
    assert reads() == 1


def test_a_visit_under_way_is_read_again_at_each_view(
        client: Any, app: Any, register_person: Any, session: Any, now: datetime,
        reads: Callable[[], int]) -> None:
    english(client)
    person = register_person()  # no test: red, and amber for the visit
    sign_in_resident(client)
    # While the visit lasts, the exposure is "now": when the exposure stops counting
    # moves with the clock, and the page says so.
    evidence.replace_checkin_facts(session, person.id, exposures=[CheckinExposure(
        place_id="V0001", visit_from=now - H, visit_to=now + 3 * H)], order_visits=[], now=now)
    for later in (H, 2 * H):
        app.state.now = now + later
        reads()
        page = client.get("/code")
        assert colour(page) == "red"
        assert reads() == 1
        changes = views._hk_time(now + later + 21 * D, "en")
        assert f"your code changes by itself at {changes}" in page.text
    saved = session.get(PersonStatus, person.id)
    session.refresh(saved)
    assert saved.fresh_until == saved.evaluated_at  # never stands in for an evaluation


def test_when_the_facts_change_with_the_clock(
        session: Any, register_person: Any, lab: Any, now: datetime) -> None:
    person = register_person()
    other = register_person("Z437626(A)")
    assert evidence.facts_change_at_many(session, [person.id, other.id], now) == {
        person.id: None, other.id: None}
    negative_test(session, lab, now, hours_ago=10)
    evidence.record_flag(session, FlagIn(document_kind="hkid", document_number="A123456(3)",
                                         kind="close_contact", starts_at=now - D,
                                         ends_at=now + 3 * D), officer=uuid.uuid4(), now=now)
    evidence.replace_checkin_facts(session, other.id, exposures=[CheckinExposure(
        place_id="V0001", visit_from=now + 5 * H, visit_to=now + 6 * H)], order_visits=[],
        now=now)
    assert evidence.facts_change_at_many(session, [person.id, other.id], now) == {
        person.id: now + 3 * D, other.id: now + 5 * H}
    # A visit under way changes the facts all the time.
    assert evidence.facts_change_at_many(session, [other.id], now + 5 * H + H / 2) == {
        other.id: now + 5 * H + H / 2}
    assert evidence.facts_change_at_many(session, [other.id], now + 6 * H) == {other.id: None}
