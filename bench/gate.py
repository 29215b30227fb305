"""p50 and p95 of the gate 1 (app QR) and gate 2 (face) decisions, on a fresh SQLite database.

One adult is enrolled from the real photos; then each round makes a fresh QR token as the
phone would, has gate 1 decide on it, and has gate 2 compare a live photo with the
template. Run: ``python -m bench.gate [ROUNDS]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

FACES = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "faces"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(rounds: int = 40) -> None:
    var = Path(tempfile.mkdtemp(prefix="borderpass-bench-"))
    os.environ["BORDERPASS_VAR_DIR"] = str(var)
    os.environ["BORDERPASS_DATABASE_URL"] = f"sqlite:///{var / 'bench.sqlite3'}"
    os.environ["BORDERPASS_LOG_LEVEL"] = "WARNING"

    from borderpass.echannel import keys, qr, service
    from borderpass.kit.config import reset_settings
    from borderpass.kit.db import session_factory, unit_of_work
    from borderpass.kit.logging import configure_logging
    from borderpass.kit.signing import SigningKey
    from borderpass.migrations import upgrade

    reset_settings()
    configure_logging("WARNING", None)
    upgrade(os.environ["BORDERPASS_DATABASE_URL"])
    factory = session_factory()
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    device = SigningKey.generate()
    device_private, device_public = device.to_pem(), device.public.to_pem()
    card = service.make_demo_card(photo=(FACES / "obama.jpg").read_bytes(), number="A123456(3)",
                                  name_en="CHAN Tai Man", name_zh="陳大文",
                                  born_on=date(1980, 5, 4), issued_on=date(2020, 1, 1))
    with unit_of_work(factory) as session:
        person_id = _register(session, now)
        enrolment = service.enrol_in_app(session, person_id=person_id, card=card,
                                         live_photo=(FACES / "obama2.jpg").read_bytes(),
                                         device_public_key=device_public.decode(), now=now)
        enrolment_id = enrolment.id
    live = (FACES / "obama3.jpg").read_bytes()
    gates_public = keys.gates().public_pem
    gate1: list[float] = []
    gate2: list[float] = []
    both: list[float] = []
    for round_ in range(rounds):
        at = now + timedelta(seconds=round_ * 7)
        token = qr.make_token(enrolment_id, device_private, gates_public, now=at)
        with unit_of_work(factory) as session:
            started = time.perf_counter()
            decision = service.gate1_qr(session, gate="BENCH-1", token=token, now=at)
            middle = time.perf_counter()
            face = service.gate2_face(session, passage_id=decision.passage_id, live_photo=live,
                                      now=at + timedelta(seconds=3))
            ended = time.perf_counter()
        if not (decision.open and face.open):
            raise SystemExit("the enrolled traveller was refused")
        gate1.append((middle - started) * 1000)
        gate2.append((ended - middle) * 1000)
        both.append((ended - started) * 1000)
    print(
        f"gate rounds={rounds} "
        f"gate1_p50={statistics.median(gate1):.1f}ms gate1_p95={_percentile(gate1, 0.95):.1f}ms "
        f"gate2_p50={statistics.median(gate2):.1f}ms gate2_p95={_percentile(gate2, 0.95):.1f}ms "
        f"both_p95={_percentile(both, 0.95):.1f}ms (target <= 300ms)"
    )


def _register(session: Session, now: datetime) -> uuid.UUID:
    """Register and activate the resident through identity's service, as a help desk would."""
    from borderpass.identity import service as identity
    from borderpass.identity.schemas import RegistrationDetails

    helper = identity.create_staff(session, "bench-help", "Help", "help_desk",
                                   "password-123", now=now)
    registration = identity.start_registration(session, now=now)
    details = RegistrationDetails.model_validate({
        "name_zh": "陳大文", "name_en": "CHAN Tai Man", "document_kind": "hkid",
        "document_number": "A123456(3)", "document_issued_on": "2020-01-01",
        "phone": "+85291234567", "address": "Flat A, 12/F, 1 Test Road, Tsuen Wan",
        "password": "password-123"})
    identity.submit_registration(session, registration.id, details,
                                 b"%PDF-1.4\n%%EOF\n", now=now)
    person = identity.activate_by_officer(session, registration.id,
                                          officer=helper.id, now=now)
    return person.id


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
