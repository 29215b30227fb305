"""Fixtures of the crossing tests: journey 5's demo travellers, codes and decisions."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

CHAN = ("hkid", "A123456(3)")
LEE = ("hkid", "Z437626(A)")
LI = ("mainland", "430102197506151237")
ENDORSEMENT = re.compile(r"endorsement (E[A-Z][0-9A-F]{10})")


@dataclass(frozen=True)
class Demo:
    """The demo as loaded in the test's transaction, and the endorsement it issued."""

    lines: list[str]
    endorsement: str


@pytest.fixture()
def demo(session: Session, now: datetime) -> Demo:
    """Load the demo data (journey 5 included) in the test's transaction."""
    from borderpass.demo import load

    lines = load(session, now=now)
    found = next(m for m in map(ENDORSEMENT.search, lines) if m is not None)
    return Demo(lines, found.group(1))


@pytest.fixture()
def code_of(session: Session, now: datetime) -> Callable[..., str]:
    """Return today's health code text of a registered document holder."""
    from borderpass.healthcode import service as healthcode

    def issue(document: tuple[str, str], at: datetime | None = None) -> str:
        return healthcode.issue_for_document(session, *document, now=at or now).text

    return issue


@pytest.fixture()
def decide(session: Session, now: datetime, code_of: Callable[..., str]) -> Callable[..., Any]:
    """Decide a crossing through the service (at the command line's channel)."""
    from borderpass.crossing import service
    from borderpass.crossing.schemas import DecisionIn

    def run(document: tuple[str, str], *, code: str | None = None, point: str = "LWU",
            direction: str = "south", endorsement: str | None = None,
            at: datetime | None = None, officer: Any = None) -> Any:
        data = DecisionIn(control_point=point, direction=direction,  # type: ignore[arg-type]
                          document_kind=document[0], document_number=document[1],
                          code=code or code_of(document, at), endorsement=endorsement, at=at)
        return service.decide(session, data, officer=officer, channel="cli", now=now)

    return run
