"""The worked example of docs/formats/echannel-qr.md, checked byte for byte."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path

import base45
import cbor2
import cwt

from borderpass.echannel import qr
from borderpass.kit.clock import HONG_KONG
from borderpass.kit.signing import SigningKey, VerifyKey, verify_code

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "echannel-qr.md"


def blocks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return {name: body.strip() for _lang, name, body in
            re.findall(r"```(\w+) ([\w-]+)\n(.*?)```", text, flags=re.DOTALL)}


def test_the_worked_example_decrypts_and_verifies_as_documented() -> None:
    # With cwt and cbor2, independent of our COSE code.
    example = blocks()
    gates_private = (example["gates-private-key"] + "\n").encode()
    device_public = (example["device-public-key"] + "\n").encode()
    token = example["token"]
    assert token.startswith(qr.PREFIX)
    gates = cwt.COSEKey.from_pem(gates_private, alg="ECDH-ES+HKDF-256",
                                 kid=VerifyKey.from_pem(gates_private).kid)
    signed = cwt.COSE.new().decode(base45.b45decode(token[len(qr.PREFIX):]), gates,
                                   context={"alg": "A128GCM"})
    assert signed.hex() == example["signed"]
    device_kid = VerifyKey.from_pem(device_public).kid
    assert cbor2.loads(signed).value[1] == {4: device_kid}
    device = cwt.COSEKey.from_pem(device_public, alg="ES256", kid=device_kid)
    payload = cwt.COSE.new().decode(signed, device)
    assert payload.hex() == example["claims"]
    assert cbor2.loads(payload) == {1: uuid.UUID("5f1c2a7e-3b9d-4c6a-8e21-0d4f6b7a9c13").bytes,
                                    2: 59855280, 3: bytes(range(16))}


def test_the_example_gate_reads_the_example_as_the_service_does() -> None:
    example = blocks()
    gates = SigningKey.from_pem((example["gates-private-key"] + "\n").encode())
    device_public = (example["device-public-key"] + "\n").encode()
    signed = qr.open_token(example["token"], gates)
    assert signed.kid.hex() in DOC.read_text(encoding="utf-8")
    assert signed.kid == VerifyKey.from_pem(device_public).kid
    assert signed.payload.hex() == example["claims"]
    claims = qr.verify_token(signed, device_public)
    assert claims == qr.read_claims(verify_code(signed, VerifyKey.from_pem(device_public)))
    assert claims.enrolment_id == uuid.UUID("5f1c2a7e-3b9d-4c6a-8e21-0d4f6b7a9c13")
    assert claims.slot == qr.slot_of(datetime(2026, 11, 26, 10, 0, 5, tzinfo=HONG_KONG))
    assert claims.nonce == bytes(range(16))
