"""Document signers with and without their CSCA, made here; and the files they come in."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from borderpass.kit.signing._base45 import b45encode
from borderpass.kit.signing.foreign import Certificate, SigningError, load_certificates
from borderpass.worldcodes.dcc import verify_dcc
from borderpass.worldcodes.result import CANNOT_VERIFY, INVALID, VALID
from borderpass.worldcodes.trust import DccTrust, TrustMaterialError
from tests.worldcodes.cases import dcc_cases

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
VACCINATION = {"ver": "1.3.0", "nam": {"fn": "Chan", "fnt": "CHAN", "gn": "Tai Man",
                                       "gnt": "TAI<MAN"}, "dob": "1980-01-02",
               "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528",
                      "ma": "ORG-100030215", "dn": 2, "sd": 2, "dt": "2021-06-01",
                      "co": "HK", "is": "Department of Health",
                      "ci": "URN:UVCI:01:HK:123456789ABCDEF#X"}]}


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "HK"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(key: ec.EllipticCurvePrivateKey, common: str, *, issuer: Any = None,
                 ca: bool = False, usages: list[str] | None = None) -> bytes:
    signer_key, signer_name = issuer if issuer else (key, _name(common))
    builder = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(signer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - timedelta(days=30))
               .not_valid_after(NOW + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [x509.ObjectIdentifier(oid) for oid in usages]), critical=False)
    return builder.sign(signer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _dcc(key: ec.EllipticCurvePrivateKey, der: bytes, payload: dict[str, Any]) -> str:
    kid = Certificate.from_der(der).kid
    protected = cbor2.dumps({1: -7, 4: kid})
    claims = cbor2.dumps({1: "HK", 6: int((NOW - timedelta(days=1)).timestamp()),
                          4: int((NOW + timedelta(days=30)).timestamp()), -260: {1: payload}})
    signed = cbor2.dumps(["Signature1", protected, b"", claims])
    r, s = decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA256())))
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, claims,
                                             r.to_bytes(32, "big") + s.to_bytes(32, "big")]))
    return "HC1:" + b45encode(zlib.compress(message))


@pytest.fixture(scope="module")
def pki() -> dict[str, Any]:
    ca_key, dsc_key, stray_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate(ca_key, "HK CSCA", ca=True)
    dsc = _certificate(dsc_key, "HK DSC", issuer=(ca_key, _name("HK CSCA")),
                       usages=["1.3.6.1.4.1.1847.2021.1.2"])
    stray = _certificate(stray_key, "Stray DSC", usages=["1.3.6.1.4.1.1847.2021.1.1"])
    return {"ca": ca, "dsc": dsc, "dsc_key": dsc_key, "stray": stray, "stray_key": stray_key}


def test_with_a_csca_only_the_signers_it_issued_are_trusted(pki: dict[str, Any]) -> None:
    certificates = [Certificate.from_der(pki[name]) for name in ("ca", "dsc", "stray")]
    trust = DccTrust.from_certificates(certificates)
    assert [c.subject for c in trust.authorities] == ["CN=HK CSCA,C=HK"]
    assert list(trust.signers) == [certificates[1].kid]
    assert trust.refused == ("CN=Stray DSC,C=HK: not issued by any CSCA given",)
    valid = verify_dcc(_dcc(pki["dsc_key"], pki["dsc"], VACCINATION), trust, now=NOW)
    assert (valid.result, valid.subject, valid.issuer) == (VALID, "Tai Man Chan", "HK")
    stray = verify_dcc(_dcc(pki["stray_key"], pki["stray"], VACCINATION), trust, now=NOW)
    assert (stray.result, stray.reason) == (CANNOT_VERIFY, "unknown_kid")
    # Without the CSCA, the stray signer is trusted, but only for tests.
    alone = DccTrust.from_certificates([certificates[2]])
    wrong = verify_dcc(_dcc(pki["stray_key"], pki["stray"], VACCINATION), alone, now=NOW)
    assert (wrong.result, wrong.reason, wrong.steps["key_usage"]) == (
        INVALID, "wrong_key_usage", False)


def test_certificate_files_in_der_pem_and_base64(pki: dict[str, Any], tmp_path: Path) -> None:
    pem = b"".join(x509.load_der_x509_certificate(pki[name]).public_bytes(
        serialization.Encoding.PEM) for name in ("ca", "dsc"))
    lines = base64.b64encode(pki["stray"]) + b"\n"
    assert [c.der for c in load_certificates(pki["dsc"])] == [pki["dsc"]]
    assert [c.der for c in load_certificates(pem)] == [pki["ca"], pki["dsc"]]
    assert [c.der for c in load_certificates(lines)] == [pki["stray"]]
    for bad in (b"", b"not a certificate", b"\x30\x03\x02\x01\x01"):
        with pytest.raises(SigningError):
            load_certificates(bad)
    folder = tmp_path / "signers"
    folder.mkdir()
    (folder / "bundle.pem").write_bytes(pem)
    (folder / "stray.txt").write_bytes(lines)
    assert len(DccTrust.load([folder]).signers) == 1
    (folder / "junk.pem").write_bytes(b"junk")
    with pytest.raises(TrustMaterialError):
        DccTrust.load([folder])


def test_an_extended_key_usage_with_no_purpose_allows_every_kind() -> None:
    # CO15's document signer has an extended key usage extension holding no OID.
    case = next(case for case in dcc_cases() if case.name.endswith("CO15.json"))
    assert case.certificate.key_usages == frozenset()
    assert verify_dcc(case.text, case.trust, now=case.clock).steps["key_usage"] is True


def test_an_algorithm_that_does_not_fit_the_key_is_refused() -> None:
    from borderpass.kit.signing.foreign import (
        b45decode,
        read_foreign_sign1,
        verify_foreign_sign1,
    )

    rsa_case = next(case for case in dcc_cases() if case.name.endswith("CO1.json"))
    ec_case = next(case for case in dcc_cases() if case.name.endswith("CO3.json"))
    for case, other in ((rsa_case, -7), (ec_case, -37)):
        message = read_foreign_sign1(zlib.decompress(b45decode(case.text[4:])))
        verify_foreign_sign1(message, case.certificate)
        with pytest.raises(SigningError) as refused:
            verify_foreign_sign1(message._replace(alg=other), case.certificate)
        assert refused.value.reason == "wrong_key_type"
        with pytest.raises(SigningError) as refused:
            verify_foreign_sign1(message._replace(alg=-35), case.certificate)
        assert refused.value.reason == "unsupported_algorithm"


def _entry(der: bytes, kid: bytes | None = None, kind: str = "DSC") -> dict[str, str]:
    """One certificate of a trust list as the EU gateway lists them."""
    entry = {"certificateType": kind, "country": "HK",
             "rawData": base64.b64encode(der).decode("ascii")}
    if kid is not None:
        entry["kid"] = base64.b64encode(kid).decode("ascii")
    return entry


def test_trust_lists_in_the_gateways_json_name_each_signer_by_its_kid(
        pki: dict[str, Any], tmp_path: Path) -> None:
    kid = Certificate.from_der(pki["dsc"]).kid
    text = _dcc(pki["dsc_key"], pki["dsc"], VACCINATION)
    gateway = tmp_path / "gateway.json"
    # An array, and an entry that is no certificate to use here (an upload certificate).
    gateway.write_bytes(b"\xef\xbb\xbf" + json.dumps(  # with a byte order mark, as some write it
        [_entry(pki["dsc"], kid), _entry(pki["stray"], None, "UPLOAD")]).encode())
    trust = DccTrust.load([gateway])
    assert {kid: [c.der for c in found] for kid, found in trust.signers.items()} == {
        kid: [pki["dsc"]]}
    assert verify_dcc(text, trust, now=NOW).result == VALID
    # A national list: its signature on the first line, then {"certificates": [...]}; the
    # CSCA among the entries is used to check the signers.
    national = tmp_path / "national.txt"
    national.write_text(base64.b64encode(b"s" * 70).decode() + "\n" + json.dumps(
        {"certificates": [_entry(pki["ca"], None, "CSCA"), _entry(pki["dsc"]),
                          _entry(pki["stray"])]}))
    listed = DccTrust.load([national])
    assert list(listed.signers) == [kid] and len(listed.authorities) == 1
    assert listed.refused == ("CN=Stray DSC,C=HK: not issued by any CSCA given",)
    for bad in ('[{"kid": "AAAAAAAAAAA="}]', '[{"rawData": "not base64"}]', '{"certs": []}',
                '[{"rawData": "MAMCAQE="}]', "[1, 2"):
        gateway.write_text(bad)
        with pytest.raises(TrustMaterialError) as refused:
            DccTrust.load([gateway])
        assert "gateway.json" in str(refused.value), bad


def test_every_signer_a_kid_names_is_tried(pki: dict[str, Any]) -> None:
    """HCERT 3.3.3: a key id is only a truncated hash, so more than one trusted signer may
    carry it, and each must be tried."""
    real = Certificate.from_der(pki["dsc"])
    decoy = Certificate.from_der(pki["stray"])
    text = _dcc(pki["dsc_key"], pki["dsc"], VACCINATION)
    both = DccTrust.from_entries([(real.kid, decoy), (real.kid, real), (None, real)])
    assert [c.der for c in both.signers[real.kid]] == [pki["stray"], pki["dsc"]]
    found = verify_dcc(text, both, now=NOW)
    assert (found.result, found.steps["signature"], found.steps["key_usage"]) == (
        VALID, True, True)
    # Only the decoy under that key id: the signature does not hold, rather than unknown.
    alone = verify_dcc(text, DccTrust.from_entries([(real.kid, decoy)]), now=NOW)
    assert (alone.result, alone.reason, alone.steps["signature"]) == (
        INVALID, "bad_signature", False)


def test_a_trust_file_past_16_mib_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(16 * 1024 * 1024 + 1)  # sparse: nothing is written
    with pytest.raises(TrustMaterialError) as refused:
        DccTrust.load([huge])
    assert refused.value.reason == "trust_file_too_large" and "huge.json" in str(refused.value)
