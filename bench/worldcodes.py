"""EU DCC verifications per second, over the official cases that are valid at their clock.

In one process and one run, on the same messages: our verifier (every step, text to
result), cryptography's bare signature check (the COSE Sig_structure already built),
python-cwt's decode (signature and claims, from the zlib-inflated COSE), and the
``greenpass`` package's parse and signature check (with the certificate given, as its
``ForcedCertificateUpdater`` does, so that nothing is fetched).

Prints one line: the four rates, ours as a multiple of the bare check's time (target
<= 1.5), how many times faster ours is than greenpass (target >= 20), and the quickest
time per message of ours and of the bare check (what each costs on an idle machine).
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import cwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from borderpass.kit.signing.foreign import Certificate, b45decode, read_foreign_sign1
from borderpass.worldcodes.dcc import verify_dcc
from borderpass.worldcodes.trust import DccTrust

SECONDS = 3.0
CASES = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "dcc" / "testdata"
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def _clock(text: str) -> datetime:
    match = re.fullmatch(r"([0-9T:-]{19})(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?", text)
    if match is None:
        raise ValueError(f"not a validation clock: {text!r}")
    base, fraction, zone = match.groups()
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    zone = "+00:00" if zone in (None, "Z") else f"{zone[:3]}:{zone[-2:]}"
    return datetime.fromisoformat(base + zone).replace(microsecond=micro)


def _bare(der: bytes, to_be_signed: bytes, signature: bytes) -> Callable[[], None]:
    key = x509.load_der_x509_certificate(der).public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        algorithm = ec.ECDSA(hashes.SHA256())

        def check_ec() -> None:
            # The r || s to DER conversion is part of any ES256 check with cryptography.
            key.verify(encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                            int.from_bytes(signature[32:], "big")),
                       to_be_signed, algorithm)
        return check_ec
    assert isinstance(key, rsa.RSAPublicKey)  # noqa: S101 - the cases hold EC and RSA keys

    def check_rsa() -> None:
        key.verify(signature, to_be_signed, _PSS, hashes.SHA256())
    return check_rsa


def _greenpass(text: str, der: bytes, alg: str) -> Callable[[], object] | None:
    try:
        from greenpass.api import CertificateUpdater
        from greenpass.logic import GreenPassParser
    except ImportError:
        return None
    updater = CertificateUpdater()

    def check() -> object:
        parser = GreenPassParser(text.encode())
        certificate = parser.get_certificate()
        certificate.set_key(updater.getcoseobj(updater.loadpubkey(der), alg=alg))
        if not certificate.verify():
            raise AssertionError("greenpass did not verify a valid case")
        return certificate
    try:
        check()
    except Exception:  # noqa: BLE001 - a case greenpass cannot read is left out of its rate
        return None
    return check


def _load() -> list[dict[str, Any]]:
    loaded = []
    for path in sorted(CASES.glob("*/2DCode/*/*.json")):
        raw = json.loads(path.read_text())
        der = base64.b64decode(raw["TESTCTX"]["CERTIFICATE"])
        trust = DccTrust.from_certificates([Certificate.from_der(der)])
        now = _clock(raw["TESTCTX"]["VALIDATIONCLOCK"])
        text = raw["PREFIX"]
        if not verify_dcc(text, trust, now=now).valid:
            continue
        inflated = zlib.decompress(b45decode(text[4:]))
        message = read_foreign_sign1(inflated)
        pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        loaded.append({"text": text, "trust": trust, "now": now, "inflated": inflated,
                       "bare": _bare(der, message.to_be_signed, message.signature),
                       "cwt_key": cwt.load_pem_hcert_dsc(pem.decode()),
                       "greenpass": _greenpass(text, der,
                                               "ES256" if message.alg == -7 else "PS256")})
    return loaded


def _rate(actions: list[Callable[[], object]], seconds: float) -> float:
    done, spent = 0, 0.0
    while spent < seconds:
        started = time.perf_counter()
        for action in actions:
            action()
        spent += time.perf_counter() - started
        done += len(actions)
    return done / spent


def _quickest(actions: list[Callable[[], object]], runs: int = 200) -> float:
    """Return the mean over the messages of each one's quickest time in µs: what the work
    costs when nothing else on the machine gets in its way."""
    total = 0.0
    for action in actions:
        best = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            action()
            best = min(best, time.perf_counter() - started)
        total += best
    return total / len(actions) * 1e6


def main(seconds: float = SECONDS) -> None:
    cases = _load()
    decoder = cwt.CWT.new(leeway=2**40)  # the cases are long expired: judge no time here
    ours = [(lambda c=c: verify_dcc(c["text"], c["trust"], now=c["now"])) for c in cases]
    bare = [c["bare"] for c in cases]
    python_cwt = [(lambda c=c: decoder.decode(c["inflated"], keys=[c["cwt_key"]]))
                  for c in cases]
    greenpass = [c["greenpass"] for c in cases if c["greenpass"] is not None]
    unread = len(cases) - len(greenpass)
    rates: dict[str, float] = {}
    # Alternate rounds of each, so that load from elsewhere on the machine falls on all.
    rounds = 5
    spent = {"ours": 0.0, "bare": 0.0, "cwt": 0.0, "greenpass": 0.0}
    counts = dict.fromkeys(spent, 0)
    for _ in range(rounds):
        for name, actions in (("ours", ours), ("bare", bare), ("cwt", python_cwt),
                              ("greenpass", greenpass)):
            if not actions:
                continue
            rate = _rate(actions, seconds / rounds)
            spent[name] += 1 / rate
            counts[name] += 1
    for name in spent:
        if counts[name]:
            rates[name] = counts[name] / spent[name]
    gp = (f"{rates['greenpass']:,.0f}/s greenpass 4.3.1 (on the {len(greenpass)} cases it "
          f"reads; {unread} it cannot)" if "greenpass" in rates
          else "greenpass not installed (pip install -e '.[bench]')")
    faster = (f", {rates['ours'] / rates['greenpass']:.0f}x faster than greenpass (target >= 20)"
              if "greenpass" in rates else "")
    ours_quickest, bare_quickest = _quickest(ours), _quickest(bare)
    print(f"worldcodes: {len(cases)} valid DCC cases; {rates['ours']:,.0f}/s ours, "
          f"{rates['bare']:,.0f}/s bare signature (cryptography), {rates['cwt']:,.0f}/s "
          f"python-cwt {cwt.__version__} decode, {gp}; ours takes "
          f"{rates['bare'] / rates['ours']:.2f}x the bare check's time (target <= 1.5)"
          f"{faster}; quickest per message {ours_quickest:,.1f} µs ours, "
          f"{bare_quickest:,.1f} µs bare ({ours_quickest / bare_quickest:.2f}x)")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else SECONDS)
