"""Fixtures of the e-Channel: demo cards made from the real photos, and enrolled people."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

FACES = Path(__file__).resolve().parent.parent / "vectors" / "faces"
ADULT_BORN = date(1980, 5, 4)
TEEN_BORN = date(2011, 6, 1)  # 15 on the test day
CHILD_BORN = date(2016, 1, 1)  # 10 on the test day


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


def key_pair() -> tuple[bytes, bytes]:
    """Make a P-256 key pair (private, public) in PEM, as a phone makes its device key."""
    from borderpass.kit.signing import SigningKey

    key = SigningKey.generate()
    return key.to_pem(), key.public.to_pem()


def hkid(body: str) -> str:
    from borderpass.identity.documents import hkid_check_character

    return f"{body}({hkid_check_character(body)})"


@pytest.fixture(scope="session")
def portraits() -> dict[str, bytes]:
    """Card photos cropped from the real photos, made once."""
    from borderpass.echannel.face import crop_portrait

    return {name: crop_portrait(photo(name)) for name in ("obama.jpg", "biden.jpg")}


@pytest.fixture()
def make_card(portraits: dict[str, bytes]) -> Callable[..., bytes]:
    """Make a card signed by the trusted authority."""
    from borderpass.echannel import keys
    from borderpass.echannel.card import make_card as write

    def make(number: str = "A123456(3)", born_on: date = ADULT_BORN,
             face: str = "obama.jpg") -> bytes:
        authority = keys.card_authority()
        return write(number=number, name_en="CHAN Tai Man", name_zh="陳大文", born_on=born_on,
                     issued_on=date(2020, 1, 1), photo=portraits[face],
                     authority=authority.key)

    return make


@pytest.fixture()
def officer(session: Session, now: datetime) -> Any:
    from borderpass.identity import service as identity

    return identity.create_staff(session, f"officer-{uuid.uuid4().hex[:6]}", "Officer",
                                 "border_officer", "password-123", now=now)


@pytest.fixture()
def device() -> tuple[bytes, bytes]:
    """A phone's device key pair (private, public), PEM."""
    return key_pair()


@pytest.fixture()
def enrolled_in_app(
    session: Session, now: datetime, register_person: Callable[..., Any],
    make_card: Callable[..., bytes], device: tuple[bytes, bytes],
) -> Any:
    """An adult enrolled in the app with the Obama card and a second Obama photo."""
    from borderpass.echannel import service

    person = register_person("A123456(3)")
    return service.enrol_in_app(
        session, person_id=person.id, card=make_card("A123456(3)"),
        live_photo=photo("obama2.jpg"), device_public_key=device[1].decode(), now=now,
    )
