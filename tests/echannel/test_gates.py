"""Gate 1 (the app QR or the card) and gate 2 (the face), on the real photos."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from borderpass.echannel import keys, qr, service
from borderpass.kit.errors import BorderpassError
from tests.echannel.conftest import key_pair, photo


def _token(enrolment: Any, device: tuple[bytes, bytes], at: datetime) -> str:
    return qr.make_token(enrolment.id, device[0], keys.gates().public_pem, now=at)


def _refusal(session: Session, token: str, now: datetime) -> str:
    with pytest.raises(qr.TokenRefused) as caught:
        service.gate1_qr(session, gate="LWS-01", token=token, now=now)
    assert caught.value.status == 403
    return str(caught.value.details["reason"])


def test_a_fresh_qr_opens_gate_1_once(
    session: Session, now: datetime, enrolled_in_app: Any, device: tuple[bytes, bytes]
) -> None:
    token = _token(enrolled_in_app, device, now)
    assert token.startswith("HKEC1:")
    decision = service.gate1_qr(session, gate="LWS-01", token=token, now=now)
    assert decision.open and decision.method == "qr"
    assert _refusal(session, token, now + timedelta(seconds=2)) == "replayed"


def test_a_qr_from_the_previous_slot_is_accepted_and_one_60_seconds_old_is_not(
    session: Session, now: datetime, enrolled_in_app: Any, device: tuple[bytes, bytes]
) -> None:
    for age in (0, 1, 14, 29):  # wherever ``now`` falls within its slot
        start = now + timedelta(seconds=age)
        previous = _token(enrolled_in_app, device, start - timedelta(seconds=30))
        assert service.gate1_qr(session, gate="LWS-01", token=previous, now=start).open
        stale = _token(enrolled_in_app, device, start - timedelta(seconds=60))
        assert _refusal(session, stale, start) == "expired"


def test_a_phone_clock_up_to_5_seconds_ahead_is_tolerated(
    session: Session, now: datetime, enrolled_in_app: Any, device: tuple[bytes, bytes]
) -> None:
    edge = now + timedelta(seconds=30 - now.timestamp() % 30 - 2)  # 2 s before a new slot
    ahead = _token(enrolled_in_app, device, edge + timedelta(seconds=5))
    assert service.gate1_qr(session, gate="LWS-01", token=ahead, now=edge).open
    far = _token(enrolled_in_app, device, edge + timedelta(seconds=40))
    assert _refusal(session, far, edge) == "not_yet_valid"


def test_a_qr_signed_by_another_device_is_refused(
    session: Session, now: datetime, enrolled_in_app: Any, device: tuple[bytes, bytes]
) -> None:
    import dataclasses

    from borderpass.kit.signing import SigningKey, VerifyKey, encrypt_code

    other_private, _other_public = key_pair()
    # another phone's key, unknown to the gates
    assert _refusal(session, _token(enrolled_in_app, (other_private, b""), now),
                    now) == "unknown_device"
    # another key claiming to be the enrolled device
    claims = {1: enrolled_in_app.id.bytes, 2: qr.slot_of(now), 3: b"n" * 16}
    forger = dataclasses.replace(SigningKey.from_pem(other_private),
                                 kid=bytes.fromhex(enrolled_in_app.device_kid))
    token = encrypt_code(claims, forger, VerifyKey.from_pem(keys.gates().public_pem),
                         prefix=qr.PREFIX)
    assert _refusal(session, token, now) == "bad_signature"


def test_a_tampered_qr_is_refused(
    session: Session, now: datetime, enrolled_in_app: Any, device: tuple[bytes, bytes]
) -> None:
    import base45

    token = _token(enrolled_in_app, device, now)
    raw = bytearray(base45.b45decode(token[len(qr.PREFIX):]))
    raw[len(raw) // 2] ^= 0x04
    tampered = qr.PREFIX + base45.b45encode(bytes(raw)).decode()
    assert _refusal(session, tampered, now) in {"undecryptable", "malformed"}
    assert _refusal(session, token[:-1], now) in {"malformed", "undecryptable"}
    assert _refusal(session, "HC1:" + token[6:], now) == "malformed"
    # encrypted to another key than the gates'
    _private, public = key_pair()
    wrong = qr.make_token(enrolled_in_app.id, device[0], public, now=now)
    assert _refusal(session, wrong, now) == "undecryptable"


def test_a_withdrawn_enrolment_no_longer_opens_gate_1(
    session: Session, now: datetime, enrolled_in_app: Any, device: tuple[bytes, bytes]
) -> None:
    service.withdraw(session, enrolled_in_app.id, by="officer", now=now)
    assert _refusal(session, _token(enrolled_in_app, device, now), now) == "unknown_device"


def test_the_card_works_at_gate_1_without_a_phone(
    session: Session, now: datetime, enrolled_in_app: Any, make_card: Callable[..., bytes]
) -> None:
    decision = service.gate1_card(session, gate="LWS-01", card=make_card(), now=now)
    assert decision.open and decision.method == "card"
    from tests.echannel.conftest import hkid

    with pytest.raises(BorderpassError) as caught:
        service.gate1_card(session, gate="LWS-01", card=make_card(hkid("Z999999")), now=now)
    assert caught.value.code == "not_enrolled"


GENUINE = ("obama.jpg", "obama3.jpg")
IMPOSTORS = ("biden.jpg", "grace_hopper.jpg", "astronaut.png", "Tom_Hanks_54745.png",
             "messi5.jpg", "t1.jpg")


@pytest.mark.parametrize("name", GENUINE + IMPOSTORS)
def test_gate_2_opens_for_the_enrolled_face_only(
    session: Session, now: datetime, enrolled_in_app: Any, device: tuple[bytes, bytes],
    name: str,
) -> None:
    passage = service.gate1_qr(session, gate="LWS-01", token=_token(enrolled_in_app, device, now),
                               now=now)
    decision = service.gate2_face(session, passage_id=passage.passage_id,
                                  live_photo=photo(name), now=now + timedelta(seconds=3))
    assert decision.distance is not None
    if name in GENUINE:
        assert decision.open and decision.route == "open"
        assert decision.distance < 0.5
    else:
        assert not decision.open and decision.route == "officer"
        assert decision.reason == "face_mismatch"
        assert decision.distance > 0.6
    with pytest.raises(BorderpassError) as caught:  # one decision per passage
        service.gate2_face(session, passage_id=passage.passage_id, live_photo=photo(name),
                           now=now + timedelta(seconds=4))
    assert caught.value.code == "passage_not_found"


def test_gate_2_sends_a_faceless_photo_to_an_officer(
    session: Session, now: datetime, enrolled_in_app: Any, make_card: Callable[..., bytes]
) -> None:
    import io

    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 90, 90)).save(blank, format="JPEG")
    passage = service.gate1_card(session, gate="LWS-01", card=make_card(), now=now)
    decision = service.gate2_face(session, passage_id=passage.passage_id,
                                  live_photo=blank.getvalue(), now=now)
    assert (decision.open, decision.route, decision.reason) == (False, "officer", "no_face")


def test_used_nonces_are_purged_once_their_tokens_are_dead(
    session: Session, now: datetime, enrolled_in_app: Any, device: tuple[bytes, bytes]
) -> None:
    token = _token(enrolled_in_app, device, now)
    assert service.gate1_qr(session, gate="LWS-01", token=token, now=now).open
    assert service.purge_used_tokens(session, now=now + timedelta(minutes=1)) == 0
    assert _refusal(session, token, now + timedelta(seconds=20)) == "replayed"
    assert service.purge_used_tokens(session, now=now + timedelta(minutes=6)) == 1
    # Purged, but far too old to be accepted anyway.
    assert _refusal(session, token, now + timedelta(minutes=6)) == "expired"
