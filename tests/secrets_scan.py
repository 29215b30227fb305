"""Looking for secrets where they must never be: the logs, the database file and its WAL,
a dump of the PostgreSQL database.

What is looked for: the PINs delivered (the test phone's and the development mailbox's),
every bearer token, API key and session id the platform issued in this process (recorded
as it issues them), the passwords the tests and the demo use, and plain document
numbers: an HKID with a valid check character in any of its formattings, a mainland
identity number with a valid check character, and the documents the tests use.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from borderpass.identity.documents import hkid_check_character, mainland_check_character

__all__ = ["ISSUED", "PASSWORDS", "document_numbers", "dump_postgres", "find", "mailbox_pins",
           "record_issued"]

# Filled as the platform issues them (``record_issued``).
ISSUED: dict[str, set[str]] = {"bearer token or API key": set(), "session id": set()}
PASSWORDS = ("password-123", "borderpass-demo", "correct horse battery", "walking to green",
             "chosen by him", "a long pass phrase", "wrong-password", "password-124")
# Documents the tests and the demo use, also in forms the generic patterns leave alone.
KNOWN_DOCUMENTS = ("A123456(3)", "Z437626(A)", "H12345678", "H87654321", "H97531864",
                   "110105194912310021")

_HKID = re.compile(rb"(?<![A-Za-z0-9])([A-Z]{1,2})(\d{6}) ?(?:\(([0-9A])\)|([0-9A]))"
                   rb"(?![A-Za-z0-9])")
_MAINLAND = re.compile(rb"(?<![0-9A-Za-z])(\d{17})([0-9X])(?![0-9A-Za-z])")
_PIN_IN_MESSAGE = re.compile(r"PIN\b[^0-9]{0,60}(\d{6})\b")


class _Recording:
    """The ``secrets`` module as a platform module sees it, noting each token it makes."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __getattr__(self, name: str) -> Any:
        return getattr(secrets, name)

    def token_urlsafe(self, nbytes: int | None = None) -> str:
        value = secrets.token_urlsafe(nbytes)
        ISSUED[self.kind].add(value)
        return value


def record_issued() -> None:
    """Note every bearer token, API key and site session id issued in this process."""
    from borderpass.identity import accounts
    from borderpass.kit import sessions

    for module, kind in ((accounts, "bearer token or API key"), (sessions, "session id")):
        assert getattr(module, "secrets", None) is secrets or isinstance(
            getattr(module, "secrets", None), _Recording), \
            f"{module.__name__} no longer makes its tokens with the secrets module"
        setattr(module, "secrets", _Recording(kind))  # noqa: B010 - replacing a module name


def _variants(number: str) -> set[bytes]:
    plain = number.replace("(", "").replace(")", "")
    forms = {number, plain}
    if "(" in number:
        forms.add(number.replace("(", " ").replace(")", ""))
    return {form.encode() for form in forms} | {form.lower().encode() for form in forms}


def document_numbers(data: bytes) -> set[str]:
    """Return the plain document numbers in ``data``."""
    found = set()
    for match in _HKID.finditer(data):
        letters, digits = match.group(1).decode(), match.group(2).decode()
        check = (match.group(3) or match.group(4)).decode()
        if hkid_check_character(letters + digits) == check:
            found.add(match.group(0).decode())
    for match in _MAINLAND.finditer(data):
        if mainland_check_character(match.group(1).decode()) == match.group(2).decode():
            found.add(match.group(0).decode())
    for number in KNOWN_DOCUMENTS:
        if any(_standalone(data, form.decode()) for form in _variants(number)):
            found.add(number)
    return found


def _standalone(data: bytes, value: str) -> bool:
    """Tell whether ``value`` occurs in ``data`` not as a part of a longer word or number
    (a PIN is six digits: the same digits inside a timestamp are not it)."""
    pattern = re.compile(rb"(?<![0-9A-Za-z.:_-])" + re.escape(value.encode()) + rb"(?![0-9A-Za-z])")
    return pattern.search(data) is not None


def mailbox_pins(folder: Path) -> set[str]:
    """Return the PINs in the messages the development mailbox holds."""
    pins = set()
    if folder.is_dir():
        for message in folder.iterdir():
            pins.update(_PIN_IN_MESSAGE.findall(message.read_text(encoding="utf-8")))
    return pins


def find(places: dict[str, bytes], *, pins: Iterable[str] = (),
         extra: dict[str, Iterable[str]] | None = None) -> list[str]:
    """Return a line for each secret found in each place (``name: content``)."""
    looked_for: dict[str, set[str]] = {kind: set(values) for kind, values in ISSUED.items()}
    looked_for["password"] = set(PASSWORDS)
    for kind, values in (extra or {}).items():
        looked_for.setdefault(kind, set()).update(values)
    found = []
    for place, data in places.items():
        for pin in sorted(set(pins)):
            if _standalone(data, pin):
                found.append(f"{place}: the PIN {pin}")
        for kind, values in looked_for.items():
            for value in sorted(values):
                if value and value.encode() in data:
                    found.append(f"{place}: a {kind} ({value[:4]}…)")
        for number in sorted(document_numbers(data)):
            found.append(f"{place}: the document number {number}")
    return found


def dump_postgres(url: str) -> bytes:
    """Return a plain-text ``pg_dump`` of the database at ``url``."""
    from sqlalchemy import make_url

    parsed = make_url(url)
    command = ["pg_dump", "--no-owner", "--data-only", "-h", parsed.host or "127.0.0.1",
               "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres",
               parsed.database or "postgres"]
    return subprocess.run(command, capture_output=True, check=True, timeout=300).stdout  # noqa: S603
