"""When a code changes by itself, the page and the printed code say so; when nothing known
would change it by itself, they say what would, and name no date.

The packaged rule set is in force until 31 December 2030: a status that only changes
when the rules go out of force has no change time worth telling a resident."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_datetime
from pypdf import PdfReader

from borderpass.kit.clock import HONG_KONG
from tests.healthcode.test_pages import sign_in_resident
from tests.web.test_pages import english


def _pdf_text(content: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(content)).pages)


def _positive_test(session: Any, lab: Any, collected: datetime, now: datetime) -> None:
    from borderpass.evidence import service as evidence

    source, _key = lab
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,result,"
             f"lab\nS-positive,hkid,A123456(3),{collected.isoformat()},{now.isoformat()},PCR,"
             "positive,\n")
    evidence.ingest(session, source.id, "tests", batch.encode(), "csv", now=now)


def test_no_change_time_without_facts_that_set_one(client: Any, register_person: Any) -> None:
    english(client)
    register_person()
    sign_in_resident(client)
    page = client.get("/code").text
    printed = _pdf_text(client.get("/code.pdf").content)
    for shown in (page, printed):
        assert "Red code" in shown
        assert "2030" not in shown, "the end of the rule set is not a change of status"
        assert "changes by itself" not in shown
        # what would change it, in its place
        assert "when the negative result arrives" in " ".join(shown.split())


def test_change_time_of_a_result_that_runs_out(
    client: Any, register_person: Any, lab: Any, session: Any, now: datetime
) -> None:
    english(client)
    register_person()
    collected = now - timedelta(days=2)
    _positive_test(session, lab, collected, now)
    sign_in_resident(client)
    # Red for 14 days after the positive test: then this rule stops failing.
    when = format_datetime((collected + timedelta(days=14)).astimezone(HONG_KONG), "medium",
                           tzinfo=HONG_KONG, locale="en_HK")
    expected = f"your code changes by itself at {when}."
    page = client.get("/code").text
    assert expected in page
    printed = " ".join(_pdf_text(client.get("/code.pdf").content).split())
    assert " ".join(expected.split()) in printed
