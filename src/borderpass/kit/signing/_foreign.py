"""Other issuers' signatures: the EU DCC's COSE_Sign1 checked with an X.509 document
signer certificate (ES256 or PS256), and SMART Health Cards' JWS checked with a JWK (ES256).

Foreign messages are read as their specifications allow, not as we write ours: a DCC may
be tagged (COSE_Sign1, tag 18, optionally inside the CWT tag 61) or untagged, and its
algorithm and key id may sit in either header, the protected one taking precedence
(RFC 9052 section 3.1; HCERT specification section 3.3). Their signatures cover the
protected header and the payload as sent, so both are kept as bytes.

Every failure raises :class:`SigningError` with a reason code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from borderpass.kit.decoding import DecodeError, b64url_decode, b64url_encode
from borderpass.kit.signing._cose import _to_be_signed, cbor_decode
from borderpass.kit.signing._error import SigningError
from borderpass.kit.signing._native import ecdsa_der, sign1_plain

__all__ = [
    "Certificate",
    "ForeignSign1",
    "JsonWebKey",
    "certificate_issued_by",
    "load_certificates",
    "load_jwk",
    "read_foreign_sign1",
    "verify_foreign_sign1",
    "verify_jws_es256",
]

ES256, PS256 = -7, -37
_TAG_SIGN1: tuple[int, ...] = (18,)
_TAGS_CWT_SIGN1: tuple[int, ...] = (61, 18)
_HEADER_ALG, _HEADER_KID = 1, 4
_SIGN1_TAG, _CWT_TAG = 18, 61
_MAX_MESSAGE = 64 * 1024
_MAX_CERTIFICATE = 64 * 1024
_SHA256 = hashes.SHA256()
_ECDSA_SHA256 = ec.ECDSA(_SHA256)
# RFC 8230 section 2: PS256 uses MGF1 with SHA-256 and a salt as long as the hash.
_PSS = padding.PSS(mgf=padding.MGF1(_SHA256), salt_length=32)
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


# -- X.509 document signer certificates ----------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """An X.509 certificate, read once, with what a verifier of foreign codes asks of it.

    ``kid`` is the first 8 bytes of SHA-256 of its DER, as the EU DCC names document
    signers; ``key_usages`` the dotted OIDs of its extended key usage extension, or None
    when it has none.
    """

    der: bytes
    kid: bytes
    subject: str
    issuer: str
    country: str | None
    not_before: datetime
    not_after: datetime
    key_usages: frozenset[str] | None
    is_ca: bool
    key_type: str
    _certificate: x509.Certificate = field(repr=False, compare=False)
    _ec_key: ec.EllipticCurvePublicKey | None = field(repr=False, compare=False)
    _rsa_key: rsa.RSAPublicKey | None = field(repr=False, compare=False)
    """The public key, read once and by its kind (``public_key()`` reads it from the DER
    at every call, and an isinstance check goes through the key classes' ABCs)."""

    @classmethod
    def from_der(cls, der: bytes) -> Certificate:
        """Read one DER certificate.

        Raises:
            SigningError: ``bad_certificate`` when it is not one, or its key is neither a
                P-256 nor an RSA key.
        """
        if not isinstance(der, bytes) or len(der) > _MAX_CERTIFICATE:
            raise SigningError("bad_certificate", "not a DER certificate")
        try:
            certificate = x509.load_der_x509_certificate(der)
            key = certificate.public_key()
            country = [attribute.value for attribute in certificate.subject
                       .get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)]
            subject = certificate.subject.rfc4514_string()
            issuer = certificate.issuer.rfc4514_string()
            not_before = certificate.not_valid_before_utc
            not_after = certificate.not_valid_after_utc
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise SigningError("bad_certificate", "not a DER certificate") from error
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
            key_type = "EC P-256"
        elif isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
            key_type = f"RSA {key.key_size}"
        else:
            raise SigningError("bad_certificate", "the key is neither P-256 nor RSA 2048+")
        try:
            usages, is_ca = _usages(certificate.extensions)
        except ValueError:
            # An extension cryptography will not parse, such as an extended key usage
            # with no purposes, which the HCERT specification allows (A.4): read the two
            # extensions a verifier needs from the DER itself.
            try:
                usages, is_ca = _der_usages(certificate.tbs_certificate_bytes)
            except (ValueError, IndexError) as error:
                raise SigningError("bad_certificate", "unreadable extensions") from error
        return cls(der, hashlib.sha256(der).digest()[:8], subject, issuer,
                   str(country[0]) if country else None, not_before, not_after, usages, is_ca,
                   key_type, certificate, key if isinstance(key, ec.EllipticCurvePublicKey)
                   else None, key if isinstance(key, rsa.RSAPublicKey) else None)

    @property
    def public_key_der(self) -> bytes:
        """Return the certificate's public key as a DER SubjectPublicKeyInfo, as a verifier
        elsewhere (WebCrypto's ``spki``) imports it."""
        return self._certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _usages(extensions: x509.Extensions) -> tuple[frozenset[str] | None, bool]:
    try:
        usages: frozenset[str] | None = frozenset(
            usage.dotted_string for usage in
            extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = None
    try:
        is_ca = extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    return usages, is_ca


_OID_EKU, _OID_BASIC = bytes.fromhex("551d25"), bytes.fromhex("551d13")


def _der(data: bytes, at: int) -> tuple[int, int, int]:
    """Return the tag, the start and the end of the DER value at ``at``."""
    tag, length = data[at], data[at + 1]
    start = at + 2
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(data[start:start + size], "big")
        start += size
    if start + length > len(data):
        raise ValueError("DER value past the end")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    found = []
    while start < end:
        tag, value, after = _der(data, start)
        found.append((tag, value, after))
        start = after
    return found


def _oid(body: bytes) -> str:
    arcs, value = [], 0
    for byte in body:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (first, arcs[0] - 40 * first, *arcs[1:]))


def _der_usages(tbs: bytes) -> tuple[frozenset[str] | None, bool]:
    """Read the extended key usage and basic constraints from a tbsCertificate's DER."""
    _, start, end = _der(tbs, 0)
    usages: frozenset[str] | None = None
    is_ca = False
    for tag, value, _ in _children(tbs, start, end):
        if tag != 0xA3:  # [3] extensions
            continue
        _, inner, inner_end = _der(tbs, value)
        for _, ext, ext_end in _children(tbs, inner, inner_end):
            parts = _children(tbs, ext, ext_end)
            oid = tbs[parts[0][1]:parts[0][2]]
            if oid not in (_OID_EKU, _OID_BASIC):
                continue
            _, seq, seq_end = _der(tbs, parts[-1][1])
            members = _children(tbs, seq, seq_end)
            if oid == _OID_EKU:
                usages = frozenset(_oid(tbs[m[1]:m[2]]) for m in members if m[0] == 0x06)
            elif oid == _OID_BASIC:
                is_ca = bool(members) and members[0][0] == 0x01 and tbs[members[0][1]] != 0
    return usages, is_ca


def load_certificates(content: bytes) -> list[Certificate]:
    """Read the certificates in a file: DER, PEM (one or more), or base64 DER (one a line).

    Raises:
        SigningError: ``bad_certificate`` when the content holds no certificate or one that
            cannot be read.
    """
    if not isinstance(content, bytes) or not content.strip():
        raise SigningError("bad_certificate", "the file is empty")
    if content[:1] == b"\x30":  # a DER SEQUENCE
        return [Certificate.from_der(content)]
    blocks = _PEM.findall(content)
    texts = blocks if blocks else content.split()
    found = []
    for text in texts:
        try:
            der = base64.b64decode(b"".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise SigningError("bad_certificate", "neither DER, PEM nor base64") from None
        found.append(Certificate.from_der(der))
    return found


def certificate_issued_by(certificate: Certificate, authority: Certificate) -> bool:
    """Tell whether ``authority`` (a CSCA) issued and signed ``certificate``."""
    try:
        certificate._certificate.verify_directly_issued_by(authority._certificate)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


# -- COSE_Sign1 as other issuers write it --------------------------------------------


class ForeignSign1(NamedTuple):
    """A COSE_Sign1 read but not verified: its algorithm, key id and payload.

    ``alg`` and ``kid`` come from the protected header when it holds them, else from the
    unprotected one; ``kid_protected`` says which. A named tuple: one is made for every
    DCC scanned, and a tuple is made in a third of a frozen dataclass's time.
    """

    alg: Any
    kid: Any
    kid_protected: bool
    payload: bytes
    signature: bytes
    to_be_signed: bytes
    tags: tuple[int, ...]


_HEADERS_KEPT = 256
_headers_read: dict[bytes, tuple[bool, Any, bool, Any]] = {}
"""What each protected header read says: ``(alg_protected, alg, kid_protected, kid)``.
Issuers reuse a few protected headers (one per key), so each is read once; past
``_HEADERS_KEPT`` headers the map starts again, so that made-up ones cannot fill the
memory. The values are only read, never changed."""


def _read_protected(protected: bytes) -> tuple[bool, Any, bool, Any]:
    """Return whether a protected header holds the algorithm, the algorithm, whether it
    holds the key id, and the key id.

    Raises:
        SigningError: ``bad_cose`` when it is not a CBOR map.
    """
    read = _headers_read.get(protected)
    if read is not None:
        return read
    if protected:
        try:
            headers = cbor_decode(protected)
        except SigningError:
            raise SigningError("bad_cose", "the protected header is not a CBOR map") from None
        if not isinstance(headers, dict):
            raise SigningError("bad_cose", "the protected header is not a CBOR map")
    else:
        headers = {}
    read = (_HEADER_ALG in headers, headers.get(_HEADER_ALG), _HEADER_KID in headers,
            headers.get(_HEADER_KID))
    if len(_headers_read) >= _HEADERS_KEPT:
        _headers_read.clear()
    _headers_read[protected] = read
    return read


_FORMS = ((), _TAG_SIGN1, _TAGS_CWT_SIGN1)


def _plain_sign1(message: bytes) -> ForeignSign1 | None:
    """Read a COSE_Sign1 in the form nearly every issuer writes, without a CBOR decoder.

    The form (``_native.sign1_plain``, in C): no tag, tag 18, or tags 61 and 18;
    shortest-form heads; an unprotected header that is empty or holds only a key id.
    Anything else gives None and is read by the CBOR decoder, so the two ways accept and
    read exactly the same messages (a test checks it); this one spares a decoder and the
    bytes of the payload read twice, for every DCC scanned.

    Raises:
        SigningError: ``bad_cose`` when the protected header is not a CBOR map.
    """
    parts = sign1_plain(message)
    if parts is None:
        return None
    form, protected, kid, payload, signature, to_be_signed = parts
    _, alg, kid_protected, protected_kid = _read_protected(protected)
    # The unprotected header holds at most a key id, so the algorithm is the protected one.
    return ForeignSign1(alg, protected_kid if kid_protected else kid, kid_protected, payload,
                        signature, to_be_signed, _FORMS[form])


def read_foreign_sign1(message: bytes) -> ForeignSign1:
    """Read a COSE_Sign1 as the EU DCC allows it, without checking its signature.

    Tagged (18), tagged inside a CWT tag (61), or untagged; the key id and algorithm in
    either header (the protected one wins).

    Raises:
        SigningError: ``bad_cbor`` for bytes that are not one CBOR item, ``bad_cose`` for an
            item that is not a COSE_Sign1.
    """
    if not isinstance(message, bytes) or len(message) > _MAX_MESSAGE:
        raise SigningError("bad_cose", "not a message of at most 64 KiB")
    read = _plain_sign1(message)
    if read is not None:
        return read
    tags, protected, unprotected, payload, signature = _decoded_envelope(message)
    alg_protected, alg, kid_protected, kid = _read_protected(protected)
    if not alg_protected:
        alg = unprotected.get(_HEADER_ALG)
    if not kid_protected:
        kid = unprotected.get(_HEADER_KID)
    return ForeignSign1(alg, kid, kid_protected, payload, signature,
                        _to_be_signed(protected, payload), tags)


def _decoded_envelope(message: bytes) -> tuple[tuple[int, ...], bytes, dict[Any, Any], bytes,
                                                bytes]:
    item = cbor_decode(message)
    tags: list[int] = []
    while isinstance(item, cbor2.CBORTag) and len(tags) < 2:
        tags.append(item.tag)
        item = item.value
    if tags not in ([], [_SIGN1_TAG], [_CWT_TAG, _SIGN1_TAG]):
        raise SigningError("bad_cose", "not a COSE_Sign1 tag")
    if not isinstance(item, list) or len(item) != 4:
        raise SigningError("bad_cose", "a COSE_Sign1 is an array of four")
    protected, unprotected, payload, signature = item
    if not (isinstance(protected, bytes) and isinstance(unprotected, dict)
            and isinstance(payload, bytes) and isinstance(signature, bytes)):
        raise SigningError("bad_cose", "COSE_Sign1 members have the wrong types")
    return tuple(tags), protected, unprotected, payload, signature


def verify_foreign_sign1(message: ForeignSign1, certificate: Certificate) -> None:
    """Check a COSE_Sign1's signature with a document signer certificate's key.

    Raises:
        SigningError: ``unsupported_algorithm`` for an algorithm other than ES256 and
            PS256, ``wrong_key_type`` when the certificate's key is not of the algorithm's
            kind, ``bad_signature`` when the signature does not verify.
    """
    alg = message.alg
    if type(alg) is not int or alg not in (ES256, PS256):
        raise SigningError("unsupported_algorithm", "only ES256 and PS256 are accepted")
    try:
        if alg == ES256:
            key = certificate._ec_key
            if key is None:
                raise SigningError("wrong_key_type", "ES256 needs an EC key")
            signature = message.signature
            if len(signature) != 64:
                raise SigningError("bad_signature", "an ES256 signature is 64 bytes")
            key.verify(ecdsa_der(signature), message.to_be_signed, _ECDSA_SHA256)
        else:
            rsa_key = certificate._rsa_key
            if rsa_key is None:
                raise SigningError("wrong_key_type", "PS256 needs an RSA key")
            rsa_key.verify(message.signature, message.to_be_signed, _PSS, _SHA256)
    except InvalidSignature:
        raise SigningError("bad_signature", "the signature does not verify") from None


# -- JWK and JWS (SMART Health Cards) ------------------------------------------------


@dataclass(frozen=True)
class JsonWebKey:
    """A P-256 public key from a JWK set, named by its RFC 7638 thumbprint."""

    kid: str
    thumbprint: str
    _key: ec.EllipticCurvePublicKey = field(repr=False, compare=False)

    @property
    def public_jwk(self) -> dict[str, str]:
        """Return the key's public members as a JWK: ``kty``, ``crv``, ``x``, ``y`` and ``kid``."""
        numbers = self._key.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url_encode(numbers.x.to_bytes(32, "big")),
                "y": b64url_encode(numbers.y.to_bytes(32, "big")), "kid": self.kid}


def load_jwk(member: Mapping[str, Any]) -> JsonWebKey:
    """Read one member of a JWK set's ``keys``: an EC P-256 public key for ES256.

    Raises:
        SigningError: ``bad_key`` when it is not such a key (a private key included).
    """
    if not isinstance(member, Mapping):
        raise SigningError("bad_key", "a JWK is an object")
    if member.get("kty") != "EC" or member.get("crv") != "P-256":
        raise SigningError("bad_key", "not an EC P-256 key")
    if "d" in member:
        raise SigningError("bad_key", "a private key in a public key set")
    if member.get("alg", "ES256") != "ES256":
        raise SigningError("bad_key", "not a key for ES256")
    x, y, kid = member.get("x"), member.get("y"), member.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SigningError("bad_key", "no kid")
    if not isinstance(x, str) or not isinstance(y, str):
        raise SigningError("bad_key", "x and y are not text")
    try:
        point = b"\x04" + b64url_decode(x, size=32) + b64url_decode(y, size=32)
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (DecodeError, ValueError, TypeError) as error:
        raise SigningError("bad_key", "x and y are not a P-256 point") from error
    # RFC 7638: SHA-256 of the required members, sorted, without whitespace.
    canonical = json.dumps({"crv": "P-256", "kty": "EC", "x": x, "y": y},
                           separators=(",", ":"), sort_keys=True)
    thumbprint = b64url_encode(hashlib.sha256(canonical.encode()).digest())
    return JsonWebKey(kid, thumbprint, key)


def verify_jws_es256(signing_input: bytes, signature: bytes, key: JsonWebKey) -> bool:
    """Tell whether a 64-byte ``r || s`` is a valid ES256 signature of a JWS signing input."""
    if len(signature) != 64:
        return False
    der = ecdsa_der(signature)
    try:
        key._key.verify(der, signing_input, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True
