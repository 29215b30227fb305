"""The gate-1 token and the card's chip have one encoding each: bytes after them, a key id
changed outside the signature, and a map spelled otherwise are refused."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import cbor2
import pytest

from borderpass.echannel.card import CardRefused, make_card, verify_card
from borderpass.echannel.qr import PREFIX, TokenRefused, make_token, open_token, verify_token
from borderpass.kit.signing import SigningKey

# Private on purpose: the altered tokens are made below the recipes, as a forger would.
from borderpass.kit.signing._base45 import b45decode, b45encode
from borderpass.kit.signing._cose import cbor_encode
from borderpass.kit.signing._encrypt import decrypt_from, encrypt_to

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DEVICE, GATES = SigningKey.generate(), SigningKey.generate()
ENROLMENT = uuid.UUID("5f1c2a7e-3b9d-4c6a-8e21-0d4f6b7a9c13")


def _token() -> str:
    return make_token(ENROLMENT, DEVICE.to_pem(), GATES.public.to_pem(), now=NOW)


def _reason(text: str) -> str:
    with pytest.raises(TokenRefused) as caught:
        verify_token(open_token(text, GATES), DEVICE.public.to_pem())
    return str(caught.value.params["reason"])


def test_a_token_reads_with_one_line_end_and_nothing_else() -> None:
    text = _token()
    for accepted in (text, text + "\n", text + "\r\n"):
        assert verify_token(open_token(accepted, GATES), DEVICE.public.to_pem()).enrolment_id \
            == ENROLMENT
    for other in (text + "\n\n", " " + text, text + " ", text + "\r"):
        assert _reason(other) == "malformed"


@pytest.mark.parametrize("extra", [b"\x00", b"\xf6", b"\xa0", b"more"])
def test_bytes_after_the_token_are_refused(extra: bytes) -> None:
    encrypted = b45decode(_token()[len(PREFIX):])
    assert _reason(PREFIX + b45encode(encrypted + extra)) == "malformed"


def test_a_token_whose_key_id_was_changed_is_refused() -> None:
    # The device's key id sits in the unprotected header: re-encrypting the same signed
    # claims under another key id (the gates' key is public) must not give a second token.
    signed = decrypt_from(b45decode(_token()[len(PREFIX):]), GATES)
    protected, _unprotected, payload, signature = cbor2.loads(signed).value
    renamed = cbor_encode(cbor2.CBORTag(18, [protected, {4: b"\x00" * 8}, payload, signature]))
    assert _reason(PREFIX + b45encode(encrypt_to(renamed, GATES.public))) == "bad_signature"
    same = encrypt_to(signed, GATES.public)
    assert verify_token(open_token(PREFIX + b45encode(same), GATES),
                        DEVICE.public.to_pem()).enrolment_id == ENROLMENT


def _card(authority: SigningKey) -> bytes:
    return make_card(number="A1234563", name_en="CHAN, Tai Man", name_zh="陳大文",
                     born_on=date(1980, 1, 2), issued_on=date(2020, 3, 4),
                     photo=b"\xff\xd8 a portrait", authority=authority)


def test_a_chip_has_one_encoding() -> None:
    authority = SigningKey.generate()
    trusted = {authority.kid: authority.public}
    card = _card(authority)
    assert verify_card(card, trusted).number == "A123456(3)"
    content = cbor2.loads(card)
    for other in (card + b"\x00", cbor_encode({**content, "v": True}),
                  cbor_encode({**content, "extra": b""}),
                  cbor2.dumps(dict(reversed(list(content.items()))))):
        with pytest.raises(CardRefused) as caught:
            verify_card(other, trusted)
        assert caught.value.params["reason"] == "malformed"
