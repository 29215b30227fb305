"""Re-evaluating many people at once: statuses saved, codes of people now red revoked once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from borderpass.evidence import service as evidence
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.models import CodeRevocation, HealthCode, PersonStatus
from borderpass.identity.documents import hkid_check_character
from borderpass.rules import service as rules

H = timedelta(hours=1)


def _number(n: int) -> str:
    body = f"K{n:06d}"
    return f"{body}({hkid_check_character(body)})"


def _batch(rows: list[tuple[str, str, datetime, str]]) -> bytes:
    lines = ["specimen_id,document_kind,document_number,collected_at,reported_at,method,result,lab"]
    lines += [f"{specimen},hkid,{number},{collected.isoformat()},"
              f"{(collected + H / 2).isoformat()},PCR,{result},"
              for specimen, number, collected, result in rows]
    return ("\n".join(lines) + "\n").encode()


def _revocations(session: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(CodeRevocation)) or 0)


def _tested_negative(session: Any, lab: Any, register_person: Any, numbers: list[str],
                     now: datetime) -> tuple[Any, list[Any]]:
    """Register people with these numbers, each tested negative two hours before ``now``;
    return the laboratory's source and the people."""
    source, _key = lab
    people = [register_person(number) for number in numbers]
    evidence.ingest(session, source.id, "tests", _batch(
        [(f"N-{number[:-3]}", number, now - 2 * H, "negative") for number in numbers]),
        "csv", now=now)
    return source, people


def test_many_people_turn_red_together(
    session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    numbers = [_number(n) for n in range(1, 6)]
    source, people = _tested_negative(session, lab, register_person, numbers, now)
    codes = [healthcode.issue(session, person.id, now=now) for person in people]
    assert {code.colour for code in codes} == {"green"}
    statuses = [session.get(PersonStatus, person.id) for person in people]
    assert {status.colour for status in statuses} == {"green"}
    before = _revocations(session)

    # One batch turns three of them red: one re-evaluation of the three, set-based.
    later = now + H
    evidence.ingest(session, source.id, "tests", _batch(
        [(f"P-{n}", numbers[n], now - H, "positive") for n in (0, 2, 4)]), "csv", now=later)
    assert _revocations(session) == before + 3
    for n, person in enumerate(people):
        status = statuses[n]  # objects already loaded are read anew
        assert status.colour == ("red" if n in (0, 2, 4) else "green")
        assert status.evaluated_at == (later if n in (0, 2, 4) else now)
        held = session.scalars(select(HealthCode).where(HealthCode.person_id == person.id)).one()
        assert (held.revoked_at is not None) == (n in (0, 2, 4))
        assert status.reasons == ",".join(rules.status(session, person.id, now=later).rule_ids)

    # Everyone again, in small batches: the same colours, nothing revoked twice.
    red_code = healthcode.issue(session, people[0].id, now=later)
    assert red_code.colour == "red"
    counts = healthcode.reevaluate_all(session, now=later, batch=2)
    assert counts["red"] >= 3 and sum(counts.values()) >= 5
    assert _revocations(session) == before + 3
    colours = healthcode.reevaluate(session, [p.id for p in people] + [people[1].id], now=later)
    assert colours == {p.id: rules.status(session, p.id, now=later).colour for p in people}
    assert _revocations(session) == before + 3


def test_people_read_as_a_range_of_ids_are_judged_as_they_are_one_by_one(
    session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    source, _key = lab
    numbers = [_number(n) for n in range(11, 18)]
    people = sorted((register_person(number) for number in numbers), key=lambda p: p.id)
    evidence.ingest(session, source.id, "tests", _batch(
        [(f"C-{n}", number, now - 2 * H, "positive" if n % 3 == 0 else "negative")
         for n, number in enumerate(numbers)]), "csv", now=now)
    left_out = people[3]
    before = session.get(PersonStatus, left_out.id)
    kept = (before.colour, before.evaluated_at, before.fresh_until, before.basis)
    wanted = [person.id for person in people if person is not left_out]

    later = now + H
    colours = healthcode.reevaluate(session, wanted, now=later, contiguous=True)
    assert colours == {person_id: rules.status(session, person_id, now=later).colour
                       for person_id in wanted}
    assert set(colours.values()) == {"green", "red"}
    for person_id in wanted:
        status = session.get(PersonStatus, person_id)
        expected = rules.status(session, person_id, now=later)
        # The same status as the one saved at ``now`` when the results came: kept as it is.
        assert (status.colour, status.reasons, status.evaluated_at) \
            == (expected.colour, ",".join(expected.rule_ids), now)
        assert status.fresh_until is not None and status.basis
    # The person between them, not asked for, is as they were.
    after = session.get(PersonStatus, left_out.id)
    assert (after.colour, after.evaluated_at, after.fresh_until, after.basis) == kept

    # Again, by list: the same statuses, nothing revoked twice.
    revoked = _revocations(session)
    assert healthcode.reevaluate(session, wanted, now=later) == colours
    assert _revocations(session) == revoked


def test_statuses_saved_together_keep_each_row_s_values(
    session: Any, now: datetime, register_person: Any
) -> None:
    from borderpass.healthcode import repository

    people = [register_person(_number(n)) for n in range(21, 24)]
    rows = [{"person_id": person.id, "colour": colour, "reasons": reasons,
             "changes_at": changes_at, "evaluated_at": now + n * H, "rule_set": "HK@1",
             "fresh_until": None if n == 1 else now + 5 * H, "basis": "b"}
            for n, (person, colour, reasons, changes_at) in enumerate(zip(
                people, ["green", "red", "green"], ["", "R1,R2", ""],
                [now + 2 * H, None, now + 3 * H], strict=True))]
    repository.lock_statuses(session, [person.id for person in people], now)
    repository.save_statuses(session, rows)
    for row in rows:
        status = session.get(PersonStatus, row["person_id"])
        assert (status.colour, status.reasons, status.changes_at, status.evaluated_at,
                status.rule_set, status.fresh_until, status.basis) == tuple(
            row[name] for name in ("colour", "reasons", "changes_at", "evaluated_at",
                                   "rule_set", "fresh_until", "basis"))


def test_a_status_evaluated_again_the_same_is_left_as_it_is(
    session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    numbers = [_number(n) for n in range(31, 34)]
    source, people = _tested_negative(session, lab, register_person, numbers, now)
    ids = [person.id for person in people]
    first = {person_id: session.get(PersonStatus, person_id) for person_id in ids}
    saved = {person_id: (status.colour, status.reasons, status.changes_at, status.evaluated_at,
                         status.rule_set, status.fresh_until, status.basis)
             for person_id, status in first.items()}

    # An hour later nothing they rest on has changed: every row stays as it was, its
    # evaluation instant included, and still stands in for an evaluation.
    healthcode.reevaluate(session, ids, now=now + H)
    for person_id in ids:
        status = session.get(PersonStatus, person_id)
        assert (status.colour, status.reasons, status.changes_at, status.evaluated_at,
                status.rule_set, status.fresh_until, status.basis) == saved[person_id]
        assert status.fresh_until is not None and status.fresh_until > now + H
    assert healthcode.current_code(session, ids[0], now=now + H) is None  # none issued yet
    assert healthcode.issue(session, ids[0], now=now + H).colour == "green"

    # One of them turns red: only that row is written, with the new instant.
    later = now + 2 * H
    evidence.ingest(session, source.id, "tests", _batch(
        [("S-P", numbers[1], now + H, "positive")]), "csv", now=later)
    healthcode.reevaluate(session, ids, now=later)
    for n, person_id in enumerate(ids):
        status = session.get(PersonStatus, person_id)
        if n == 1:
            assert (status.colour, status.evaluated_at) == ("red", later)
        else:  # the first was evaluated again when its code was issued (its row held)
            assert (status.colour, status.evaluated_at) == ("green", now + H if n == 0 else now)


def test_statuses_saved_again_write_only_what_changed(
    session: Any, now: datetime, register_person: Any
) -> None:
    from borderpass.healthcode import repository

    people = [register_person(_number(n)) for n in range(41, 44)]
    rows = [{"person_id": person.id, "colour": "green", "reasons": "", "changes_at": now + H,
             "evaluated_at": now, "rule_set": "HK@1", "fresh_until": now + H, "basis": "b"}
            for person in people]
    repository.lock_statuses(session, [person.id for person in people], now)
    repository.save_statuses(session, rows)
    later = now + H / 2
    again = [dict(row, evaluated_at=later) for row in rows]
    again[1]["fresh_until"] = None  # a column differs: written
    again[2]["basis"] = "c"
    repository.lock_statuses(session, [person.id for person in people], later)
    repository.save_statuses(session, again)
    written = {person.id: session.get(PersonStatus, person.id) for person in people}
    assert written[people[0].id].evaluated_at == now
    assert (written[people[1].id].evaluated_at, written[people[1].id].fresh_until) \
        == (later, None)
    assert (written[people[2].id].evaluated_at, written[people[2].id].basis) == (later, "c")
