"""The official conformance data as the tests read it (tests/vectors/dcc, tests/vectors/shc)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from borderpass.kit.signing.foreign import Certificate
from borderpass.worldcodes.trust import DccTrust

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
DCC = VECTORS / "dcc"
SHC = VECTORS / "shc"
DCC_CASES = sorted((DCC / "testdata").glob("*/2DCode/*/*.json"))
SHC_ISSUERS = SHC / "issuers"
SHC_ISSUER = "https://spec.smarthealth.cards/examples/issuer"

# Each expected-result key and the step of ours that gives it (CONFORMANCE-README.md);
# EXPECTEDPICTUREDECODE, EXPECTEDDECODE and EXPECTEDVALIDJSON are checked beyond a step.
STEP_OF = {
    "EXPECTEDUNPREFIX": "prefix", "EXPECTEDB45DECODE": "base45",
    "EXPECTEDCOMPRESSION": "zlib", "EXPECTEDDECODE": "cbor", "EXPECTEDVALIDJSON": "cbor",
    "EXPECTEDSCHEMAVALIDATION": "schema", "EXPECTEDVERIFY": "signature",
    "EXPECTEDEXPIRATIONCHECK": "expiry", "EXPECTEDKEYUSAGE": "key_usage",
}


@dataclass(frozen=True)
class DccCase:
    """One official DCC test case."""

    name: str
    raw: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.raw["PREFIX"])

    @property
    def expected(self) -> dict[str, bool]:
        return dict(self.raw.get("EXPECTEDRESULTS", {}))

    @property
    def certificate(self) -> Certificate:
        return Certificate.from_der(base64.b64decode(self.raw["TESTCTX"]["CERTIFICATE"]))

    @property
    def trust(self) -> DccTrust:
        return DccTrust.from_certificates([self.certificate])

    @property
    def clock(self) -> datetime:
        return validation_clock(self.raw["TESTCTX"]["VALIDATIONCLOCK"])


def validation_clock(text: str) -> datetime:
    """Read a case's clock: with or without a zone, ``+0200`` without a colon, long fractions."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?", text)
    assert match is not None, text
    base, fraction, zone = match.groups()
    value = datetime.fromisoformat(base)
    if fraction:
        value = value.replace(microsecond=int((fraction[1:] + "000000")[:6]))
    if zone in (None, "Z"):
        return value.replace(tzinfo=UTC)
    return datetime.fromisoformat(f"{base}{zone[:3]}:{zone[-2:]}").replace(
        microsecond=value.microsecond)


def dcc_cases() -> list[DccCase]:
    return [DccCase(str(path.relative_to(DCC / "testdata")), json.loads(path.read_text()))
            for path in DCC_CASES]


def shc_text(example: str) -> str:
    return (SHC / "examples" / f"example-{example}-f-qr-code-numeric-value-0.txt").read_text()


def shc_payload(example: str) -> dict[str, Any]:
    loaded = json.loads((SHC / "examples" / f"example-{example}-c-jws-payload-minified.json")
                        .read_text())
    assert isinstance(loaded, dict)
    return loaded
