"""The smart identity card: passive authentication refuses any change and unknown signers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import cbor2
import pytest

from borderpass.echannel import keys
from borderpass.echannel.card import CardRefused, make_card, verify_card
from borderpass.kit.signing import SigningKey
from tests.echannel.conftest import ADULT_BORN


def test_a_genuine_card_verifies(make_card: Callable[..., bytes],
                                 portraits: dict[str, bytes]) -> None:
    card = verify_card(make_card("a123456 (3)"), keys.trusted_card_keys())
    assert card.number == "A123456(3)"
    assert card.born_on == ADULT_BORN
    assert card.name_zh == "陳大文"
    assert card.photo == portraits["obama.jpg"]
    assert card.photo.startswith(b"\xff\xd8\xff")


def _refusal(card: bytes) -> str:
    with pytest.raises(CardRefused) as caught:
        verify_card(card, keys.trusted_card_keys())
    assert caught.value.field == "card"
    return str(caught.value.details["reason"])


def _rewrite(card: bytes, **changes: object) -> bytes:
    chip = cbor2.loads(card)
    chip.update(changes)
    return cbor2.dumps(chip, canonical=True)


def test_a_changed_date_of_birth_is_refused(make_card: Callable[..., bytes]) -> None:
    card = make_card()
    details = cbor2.loads(cbor2.loads(card)["dg1"])
    details["born"] = "2000-05-04"
    assert _refusal(_rewrite(card, dg1=cbor2.dumps(details, canonical=True))) == "data_altered"


def test_a_swapped_photo_is_refused(make_card: Callable[..., bytes],
                                    portraits: dict[str, bytes]) -> None:
    assert _refusal(_rewrite(make_card(), dg2=portraits["biden.jpg"])) == "data_altered"


def test_a_forged_security_object_is_refused(make_card: Callable[..., bytes]) -> None:
    card = make_card()
    sod = bytearray(cbor2.loads(card)["sod"])
    sod[-5] ^= 0x01  # a bit of the signature
    assert _refusal(_rewrite(card, sod=bytes(sod))) == "bad_signature"


def test_a_card_signed_by_an_untrusted_key_is_refused(portraits: dict[str, bytes]) -> None:
    import dataclasses

    stranger = SigningKey.generate()
    forged = make_card(number="A123456(3)", name_en="X", name_zh="X", born_on=ADULT_BORN,
                       issued_on=date(2020, 1, 1), photo=portraits["obama.jpg"],
                       authority=stranger)
    assert _refusal(forged) == "unknown_authority"
    # the same key under the trusted authority's id does not verify either
    impostor = make_card(number="A123456(3)", name_en="X", name_zh="X", born_on=ADULT_BORN,
                         issued_on=date(2020, 1, 1), photo=portraits["obama.jpg"],
                         authority=dataclasses.replace(stranger,
                                                       kid=keys.card_authority().kid))
    assert _refusal(impostor) == "bad_signature"


@pytest.mark.parametrize("content", [b"", b"not cbor at all \xff", cbor2.dumps([1, 2, 3]),
                                     cbor2.dumps({"v": 1, "dg1": "text"})])
def test_garbage_is_refused(content: bytes) -> None:
    assert _refusal(content) == "malformed"
