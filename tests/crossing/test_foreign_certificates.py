"""An EU Digital COVID Certificate in place of our code at the airport, through the API:
verified with the configured trust, judged by the EU rules, its holder compared with the
issuing registry's record of the document presented."""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import Session

from borderpass.kit.signing._base45 import b45encode
from borderpass.kit.signing.foreign import Certificate
from tests.crossing.conftest import CHAN, Demo
from tests.crossing.test_api import bearer

KEY = ec.generate_private_key(ec.SECP256R1())


def _signer(now: datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Test DSC")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(KEY.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=90)).not_valid_after(now + timedelta(days=365))
            .sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def _dcc(der: bytes, now: datetime, *, family: str = "CHAN", given: str = "TAI<MAN",
         dob: str = "1985-03-14", dose: int = 2, days_ago: int = 60) -> str:
    payload = {"ver": "1.3.0", "dob": dob,
               "nam": {"fn": family.title(), "fnt": family, "gn": given.replace("<", " ").title(),
                       "gnt": given},
               "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528",
                      "ma": "ORG-100030215", "dn": dose, "sd": 2,
                      "dt": (now - timedelta(days=days_ago)).date().isoformat(), "co": "DE",
                      "is": "Robert Koch-Institut", "ci": "URN:UVCI:01DE/IZ12345A/5CWLU12#W"}]}
    protected = cbor2.dumps({1: -7, 4: Certificate.from_der(der).kid})
    claims = cbor2.dumps({1: "DE", 6: int((now - timedelta(days=days_ago)).timestamp()),
                          4: int((now + timedelta(days=300)).timestamp()), -260: {1: payload}})
    r, s = decode_dss_signature(KEY.sign(cbor2.dumps(["Signature1", protected, b"", claims]),
                                         ec.ECDSA(hashes.SHA256())))
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, claims,
                                             r.to_bytes(32, "big") + s.to_bytes(32, "big")]))
    return "HC1:" + b45encode(zlib.compress(message))


@pytest.fixture()
def signer(now: datetime) -> Iterator[bytes]:
    """Trust one document signer under the configured foreign trust folder."""
    from borderpass.kit.config import get_settings

    folder = get_settings().foreign_trust_dir
    assert folder is not None and not folder.exists()
    der = _signer(now)
    (folder / "dcc").mkdir(parents=True)
    (folder / "dcc" / "de.der").write_bytes(der)
    yield der
    shutil.rmtree(folder)


def _checks(view: dict[str, Any]) -> dict[str, bool]:
    return {check["rule"]: check["met"] for check in view["checks"]}


def test_an_accepted_eu_certificate_stands_in_for_the_code_at_the_airport(
    client: Any, session: Session, now: datetime, demo: Demo, staff_token: Any,
    signer: bytes
) -> None:
    _member, officer = staff_token("border_officer")
    body = {"control_point": "AIR", "direction": "south", "document_kind": CHAN[0],
            "document_number": CHAN[1], "code": _dcc(signer, now), "language": "en"}

    def decide(**changes: Any) -> dict[str, Any]:
        shown = client.post("/api/crossing/decisions", headers=bearer(officer),
                            json={**body, **changes})
        assert shown.status_code == 201, shown.text
        return dict(shown.json())

    accepted = _checks(decide())
    assert "XS-CODE-VALID" not in accepted  # our code's rule gives way at the airport
    assert accepted["XS-FOREIGN-ACCEPTED"] and accepted["XS-FOREIGN-HOLDER"]
    # The registry knows nothing of the document here: the officer compares by hand.

    # At a land crossing the certificate is not our code, and the code rule refuses.
    land = decide(control_point="LWU")
    assert land["outcome"] == "refused" and "code_not_valid" in [
        reason["code"] for reason in land["reasons"]]
    assert "XS-FOREIGN-ACCEPTED" not in _checks(land)

    # One dose of two: valid and signed, but not accepted by the EU rules.
    partial = decide(code=_dcc(signer, now, dose=1))
    assert partial["outcome"] == "refused"
    assert [r["code"] for r in partial["reasons"]][0] == "foreign_not_accepted"
    assert "EU acceptance rules" in partial["reasons"][0]["message"]
    # Too recent a last dose (the rules ask for 14 days).
    assert not _checks(decide(code=_dcc(signer, now, days_ago=3)))["XS-FOREIGN-ACCEPTED"]
    # A certificate changed after signing does not verify.
    text = _dcc(signer, now)
    assert not _checks(decide(code=text[:-4] + "AAAA"))["XS-FOREIGN-ACCEPTED"]


def test_the_holder_is_compared_with_the_registry_record(
    client: Any, session: Session, now: datetime, demo: Demo, staff_token: Any,
    signer: bytes
) -> None:
    from borderpass.identity.registries import create_registry, load_registry_records

    registry, _key = create_registry(session, "Immigration Department", "hkid", now=now)
    csv = ("document_number,name_en,born_on,issued_on,address\n"
           f"\"{CHAN[1]}\",CHAN Tai Man,1985-03-14,2018-01-02,1 Queen's Road Central\n")
    load_registry_records(session, registry.id, csv.encode(), "csv", now=now)
    _member, officer = staff_token("border_officer")

    def checks(code: str) -> dict[str, bool]:
        shown = client.post("/api/crossing/decisions", headers=bearer(officer), json={
            "control_point": "AIR", "direction": "south", "document_kind": CHAN[0],
            "document_number": CHAN[1], "code": code})
        assert shown.status_code == 201, shown.text
        return _checks(shown.json())

    assert checks(_dcc(signer, now))["XS-FOREIGN-HOLDER"]
    assert not checks(_dcc(signer, now, family="WONG"))["XS-FOREIGN-HOLDER"]
    assert not checks(_dcc(signer, now, dob="1985-03-15"))["XS-FOREIGN-HOLDER"]
    assert checks(_dcc(signer, now, dob="1985"))["XS-FOREIGN-HOLDER"]  # a partial date


def test_the_foreign_facts_are_named_by_the_policy() -> None:
    from borderpass.crossing.policy import FACT_FIELDS

    assert {"foreign.present", "foreign.format", "foreign.result", "foreign.accepted",
            "foreign.kind", "foreign.holderMatches"} <= FACT_FIELDS
