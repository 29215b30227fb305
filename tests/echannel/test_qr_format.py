"""The worked example of docs/formats/echannel-qr.md, checked byte for byte."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path

import base45

from borderpass.echannel import qr
from borderpass.kit.clock import HONG_KONG
from borderpass.kit.signing import cbor_decode, decrypt_from, pem_key_id, verify_cose

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "echannel-qr.md"


def blocks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return {name: body.strip() for _lang, name, body in
            re.findall(r"```(\w+) ([\w-]+)\n(.*?)```", text, flags=re.DOTALL)}


def test_the_worked_example_decrypts_and_verifies_as_documented() -> None:
    example = blocks()
    gates_private = (example["gates-private-key"] + "\n").encode()
    device_public = (example["device-public-key"] + "\n").encode()
    token = example["token"]
    assert token.startswith(qr.PREFIX)
    signed = decrypt_from(base45.b45decode(token[len(qr.PREFIX):]), gates_private)
    assert signed.hex() == example["signed"]
    kid, payload = verify_cose(signed, lambda _kid: device_public)
    assert kid == pem_key_id(device_public)
    assert payload.hex() == example["claims"]
    claims = qr.read_claims(payload)
    assert claims.enrolment_id == uuid.UUID("5f1c2a7e-3b9d-4c6a-8e21-0d4f6b7a9c13")
    assert claims.slot == qr.slot_of(datetime(2026, 11, 26, 10, 0, 5, tzinfo=HONG_KONG))
    assert claims.nonce == bytes(range(16))
    assert cbor_decode(payload) == {1: claims.enrolment_id.bytes, 2: claims.slot,
                                    3: claims.nonce}


def test_the_example_gate_reads_the_example_as_the_service_does() -> None:
    example = blocks()
    kid, signed = qr.open_token(example["token"], (example["gates-private-key"] + "\n").encode())
    assert kid.hex() in DOC.read_text(encoding="utf-8")
    assert signed.hex() == example["signed"]
