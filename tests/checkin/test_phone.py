"""The phone: check-ins kept on the device, one at a time, auto-leave, bookmarks, export,
purge, a photo of a printed poster, and warnings that say what to do by when."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest

from borderpass.checkin import service
from borderpass.checkin.qr import InvalidPlate, InvalidVenueCode
from borderpass.checkin.schemas import CaseIn
from tests.checkin.conftest import LEGACY_CODE

H = timedelta(hours=1)


def test_one_active_check_in_and_auto_leave(make_venue: Any, make_phone: Any, now: Any) -> None:
    _venue, code = make_venue()
    phone = make_phone()
    first = phone.check_in(code, now=now)
    assert first.active and first.name_en == "Golden Dragon Restaurant"
    second = phone.check_in(LEGACY_CODE, now=now + H)
    records = phone.records(now=now + H)
    assert [r.venue_id for r in records] == [first.venue_id, "WHBvLDSa"]
    assert records[0].ended_at == now + H and not records[0].active
    assert phone.active(now=now + H) == second
    # Nobody checked out: the default auto-leave ends the visit after 4 hours.
    later = phone.records(now=now + 10 * H)[-1]
    assert not later.active and later.ended_at == now + 5 * H
    assert phone.active(now=now + 10 * H) is None
    assert phone.check_out(now=now + 10 * H) is None


def test_check_out_and_a_chosen_auto_leave(make_phone: Any, now: Any) -> None:
    phone = make_phone()
    phone.check_in(LEGACY_CODE, now=now, leave_after=timedelta(minutes=30))
    assert phone.records(now=now + H)[0].ended_at == now + timedelta(minutes=30)
    phone.check_in(LEGACY_CODE, now=now + H)
    left = phone.check_out(now=now + 2 * H)
    assert left is not None and left.ended_at == now + 2 * H and not left.active
    with pytest.raises(Exception, match="1 minute to 24 hours"):
        phone.check_in(LEGACY_CODE, now=now, leave_after=timedelta(days=2))


def test_taxi_by_plate(make_phone: Any, now: Any) -> None:
    phone = make_phone()
    ride = phone.check_in_taxi("ab 1234", now=now)
    assert ride.venue_id == "AB1234" and ride.format == "taxi"
    with pytest.raises(InvalidPlate):
        phone.check_in_taxi("AB-0001", now=now)


def test_bad_codes_write_nothing(make_phone: Any, now: Any) -> None:
    phone = make_phone()
    with pytest.raises(InvalidVenueCode):
        phone.check_in("HKEN:garbage", now=now)
    with pytest.raises(InvalidVenueCode):
        phone.check_in_photo(b"not a picture", now=now)
    assert phone.records(now=now) == []


def test_bookmarks_export_and_purge(make_venue: Any, make_phone: Any, now: Any) -> None:
    venue, code = make_venue()
    phone = make_phone()
    phone.bookmark(code, now=now)
    assert phone.bookmarks() == [{"venue_id": venue.code, "name_zh": "金龍酒家",
                                  "name_en": "Golden Dragon Restaurant"}]
    phone.check_in_bookmark(venue.code, now=now - timedelta(days=40))
    phone.check_in(LEGACY_CODE, now=now - timedelta(days=30))
    phone.check_in_bookmark(venue.code, now=now)
    exported = phone.export(now=now)
    # Checking in purged the visit of 40 days ago by itself.
    assert [c["venue_id"] for c in exported["checkins"]] == ["WHBvLDSa", venue.code]
    assert "secret" not in json.dumps(exported)
    assert phone.purge(now=now) == 0
    assert phone.purge(now=now + timedelta(days=2)) == 1
    assert [r.venue_id for r in phone.records(now=now)] == [venue.code]
    phone.remove_bookmark(venue.code)
    assert phone.bookmarks() == []


def test_check_in_from_a_photo_of_the_printed_poster(
    session: Any, make_venue: Any, make_phone: Any, operator: Any, now: Any
) -> None:
    import pypdfium2
    from PIL import ImageFilter

    venue, _code = make_venue(name_en="Tsuen Wan Wet Market", name_zh="荃灣街市",
                              name_zh_hans="荃湾街市", type="market")
    pdf = service.venue_poster(session, venue.code, caller=operator)
    assert pdf.startswith(b"%PDF-")
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    width, height = page.get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = page.get_textpage().get_text_range()
    for expected in ("荃灣街市", "荃湾街市", "Tsuen Wan Wet Market", "Scan to check in",
                     "掃描登記到訪", "扫描登记到访"):
        assert expected in text
    picture = page.render(scale=1.6).to_pil().convert("RGB")
    # A photo, not a clean render: slightly turned, soft, and saved as a JPEG.
    picture = picture.rotate(4, expand=True, fillcolor="white").filter(ImageFilter.GaussianBlur(1))
    photo = io.BytesIO()
    picture.save(photo, "JPEG", quality=70)
    page.close()
    document.close()
    done = make_phone().check_in_photo(photo.getvalue(), now=now)
    assert (done.format, done.venue_id, done.name_zh) == ("signed", venue.code, "荃灣街市")


def test_a_warning_says_what_to_do_and_by_when(
    session: Any, make_venue: Any, make_phone: Any, now: Any
) -> None:
    venue, code = make_venue()
    phone = make_phone()
    visit = now - timedelta(days=3)
    phone.check_in(code, now=visit)
    phone.check_out(now=visit + H)
    service.record_case(session, CaseIn(venue_id=venue.code, starts_at=visit + 0.5 * H,
                                        ends_at=visit + 2 * H), officer=venue.id, now=now)
    warnings = phone.warnings(service.exposure_list(session, now=now), now=now)
    assert [w.kind for w in warnings] == ["direct"]
    message = warnings[0].message("en")
    assert "Golden Dragon Restaurant" in message
    assert "Get a PCR test by 2026-11-28" in message  # two days after today (26 Nov)
    assert "金龍酒家" in warnings[0].message("zh_Hant")


def test_upload_sends_the_signed_bundle_only_with_consent(
    client: Any, session: Any, register_person: Any, make_phone: Any, now: Any,
    monkeypatch: Any,
) -> None:
    import urllib.request

    from borderpass.checkin.phone import UploadRefused
    from borderpass.identity import service as identity

    register_person()
    _p, token, _ = identity.sign_in(session, "hkid", "A123456(3)", "password-123", now=now)
    phone = make_phone(since=now - timedelta(days=15))
    phone.check_in(LEGACY_CODE, now=now - H)
    sent: list[Any] = []

    def through_the_app(request: Any, timeout: float) -> Any:
        sent.append(request)
        response = client.post(request.full_url.removeprefix("http://server"),
                               content=request.data, headers=dict(request.header_items()))
        if response.status_code >= 400:
            raise urllib.error.HTTPError(request.full_url, response.status_code, "refused",
                                         {}, io.BytesIO(response.content))  # type: ignore[arg-type]
        return io.BytesIO(response.content)

    import urllib.error

    monkeypatch.setattr(urllib.request, "urlopen", through_the_app)
    with pytest.raises(Exception, match="consent"):
        phone.upload("http://server", token, consent=False, now=now)
    assert sent == []
    answer = phone.upload("http://server", token, consent=True, now=now)
    assert answer == {"records": 1, "covered_days": 15, "covers_last_14_days": True}
    with pytest.raises(UploadRefused, match="Sign in or give a valid key[.]$"):
        phone.upload("http://server", "wrong-token", consent=True, now=now)
