"""ES256 keys, CBOR and COSE_Sign1 (RFC 9052), written directly over ``cryptography``.

A signed message is ``COSE_Sign1 = #6.18([protected, unprotected, payload, signature])``
where ``protected`` is the CBOR map ``{1: -7 (ES256)}``, with ``4: kid`` in it or in the
unprotected map, as a byte string, and the signature is the 64-byte ``r || s`` over
``Sig_structure = ["Signature1", protected, h'', payload]``. This is the container the
EU DCC uses, so the same verifier can check those too; what we sign verifies with the
``cwt`` package (a test shows it). It is the project's only COSE_Sign1: it verifies
about twice as fast as ``cwt``.

Every failure raises :class:`SigningError` with a reason code.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from borderpass.kit.decoding import DecodeError, b64_decode
from borderpass.kit.signing._error import SigningError
from borderpass.kit.signing._native import cbor_plain, ecdsa_der

__all__ = [
    "SignedCode",
    "SigningKey",
    "VerifyKey",
    "cbor_decode",
    "cbor_encode",
    "es256_sign",
    "es256_verify",
    "open_sign1",
    "sign1",
]

ES256 = -7
_HEADER_ALG = 1
_HEADER_KID = 4
_SIGN1_TAG = 18
_CURVE = ec.SECP256R1()
_MAX_MESSAGE = 64 * 1024


def _spki(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_id(public_der: bytes) -> bytes:
    # The first 8 bytes of SHA-256 of the SubjectPublicKeyInfo, as the EU DCC names keys.
    return hashlib.sha256(public_der).digest()[:8]


@dataclass(frozen=True)
class VerifyKey:
    """A P-256 public key that checks ES256 signatures, and its key id."""

    kid: bytes
    _key: ec.EllipticCurvePublicKey

    @classmethod
    def from_b64(cls, spki_b64: str) -> VerifyKey:
        """Load a key from base64 SubjectPublicKeyInfo, as trust lists carry it.

        Only one text is accepted for a key: canonical padded base64 of the DER with the
        point uncompressed (as ``to_b64`` writes it), so that a key has one key id.

        Raises:
            SigningError: ``bad_key`` when it is not a P-256 public key so written.
        """
        try:
            der = b64_decode(spki_b64)
            key = serialization.load_der_public_key(der)
        except (DecodeError, ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise SigningError("bad_key", "not a base64 SubjectPublicKeyInfo") from error
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _CURVE.name:
            raise SigningError("bad_key", "not a P-256 key")
        if _spki(key) != der:
            raise SigningError("bad_key", "not the one DER encoding of the key")
        return cls(_key_id(der), key)

    @classmethod
    def from_pem(cls, pem: bytes) -> VerifyKey:
        """Load the public key of a P-256 key given as PEM, public or private.

        Raises:
            SigningError: ``bad_key`` when the text is not a P-256 key.
        """
        try:
            if b"PRIVATE KEY" in pem:
                private = serialization.load_pem_private_key(pem, password=None)
                if not isinstance(private, ec.EllipticCurvePrivateKey):
                    raise SigningError("bad_key", "not an EC key")
                public = private.public_key()
            else:
                loaded = serialization.load_pem_public_key(pem)
                if not isinstance(loaded, ec.EllipticCurvePublicKey):
                    raise SigningError("bad_key", "not an EC key")
                public = loaded
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise SigningError("bad_key", "not a PEM key") from error
        if public.curve.name != _CURVE.name:
            raise SigningError("bad_key", "the curve must be P-256")
        return cls(_key_id(_spki(public)), public)

    def to_b64(self) -> str:
        """Return the SubjectPublicKeyInfo in standard base64, as trust lists carry it."""
        return base64.b64encode(_spki(self._key)).decode()

    def to_pem(self) -> bytes:
        """Return the key as SubjectPublicKeyInfo PEM."""
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True)
class SigningKey:
    """A P-256 key that signs with ES256, and its key id; the key itself stays in here."""

    kid: bytes
    _key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """Generate a fresh P-256 key."""
        key = ec.generate_private_key(_CURVE)
        return cls(_key_id(_spki(key.public_key())), key)

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        """Load a P-256 private key from PEM.

        Raises:
            SigningError: ``bad_key`` when it is not a P-256 private key.
        """
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise SigningError("bad_key", "not a PEM private key") from error
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != _CURVE.name:
            raise SigningError("bad_key", "not a P-256 key")
        return cls(_key_id(_spki(key.public_key())), key)

    def to_pem(self) -> bytes:
        """Return the key as unencrypted PKCS#8 PEM (keep the file 0600)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public(self) -> VerifyKey:
        """Return the public half, under the same key id."""
        return VerifyKey(self.kid, self._key.public_key())


def es256_sign(key: SigningKey, data: bytes, *, deterministic: bool = False) -> bytes:
    """Sign bytes with ES256; return the 64-byte ``r || s``.

    Args:
        deterministic: use RFC 6979 nonces, so equal inputs give equal signatures (for
            worked examples); otherwise nonces are random.
    """
    algorithm = ec.ECDSA(hashes.SHA256(), deterministic_signing=deterministic)
    r, s = decode_dss_signature(key._key.sign(data, algorithm))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def es256_verify(key: VerifyKey, data: bytes, signature: bytes) -> bool:
    """Tell whether a 64-byte ``r || s`` is a valid ES256 signature of ``data``."""
    if len(signature) != 64:
        return False
    der = ecdsa_der(signature)
    try:
        key._key.verify(der, data, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True


def cbor_encode(value: Any) -> bytes:
    """Encode a value as canonical CBOR (RFC 8949 core deterministic encoding)."""
    return cbor2.dumps(value, canonical=True)


def _position_tells() -> bool:
    """Tell whether this cbor2 reads, past a first piece of ``read_size`` bytes, only the
    bytes an item needs, so that the stream's position is where the item ends.

    Otherwise (another version that reads ahead) ``cbor_decode`` asks the decoder's buffer.
    """
    long = cbor2.dumps(["a" * 5000, {1: b"b" * 300}])
    for data, whole in ((b"\x01", True), (b"\x01\x00", False), (b"\x82\x01\x02", True),
                        (b"\x82\x01\x02\x03", False), (long, True), (long + b"\x00", False),
                        (long + long, False)):
        stream = io.BytesIO(data)
        size = len(data)
        try:
            cbor2.CBORDecoder(stream, read_size=size - 1 if size > 1 else 1).decode()
        except Exception:  # noqa: BLE001 - a decoder that fails here is not relied on
            return False
        if (stream.tell() == size) is not whole:
            return False
    return True


_POSITION_TELLS = _position_tells()
_DECODER = cbor2.CBORDecoder


def cbor_decode(data: bytes, *, canonical: bool = False) -> Any:
    """Decode exactly one CBOR item: bytes after it are refused, not ignored.

    Args:
        canonical: refuse any encoding of the item but the core deterministic one
            (RFC 8949 section 4.2.1, what ``cbor_encode`` writes), so that what is not
            covered by a signature has one encoding only.

    Raises:
        SigningError: ``bad_cbor`` for anything that is not one well-formed item (so
            encoded).
    """
    if not isinstance(data, bytes):
        raise SigningError("bad_cbor", "not bytes")
    # The plain form issuers write, decoded in C without a decoder object; anything else
    # (NotImplemented) is cbor2's, which decodes the plain form the same (a test checks).
    item = cbor_plain(data)
    if item is NotImplemented:
        item = _decoded(data)
    if canonical:
        try:
            again = cbor_encode(item)
        except Exception as error:  # a value with no deterministic encoding (a cycle ...)
            raise SigningError("bad_cbor", "not in deterministic encoding") from error
        if again != data:
            raise SigningError("bad_cbor", "not in deterministic encoding")
    return item


def _decoded(data: bytes) -> Any:
    """Decode exactly one CBOR item with cbor2 (``cbor_decode``)."""
    # The decoder reads the bytes in one piece rather than item by item (about twice as
    # fast). The piece is all but the last byte, which is read only if the item needs it:
    # the stream's position then says whether bytes follow the item, without the
    # exception that asking the decoder's buffer for one more byte raises.
    size = len(data)
    stream = io.BytesIO(data)
    # fp, tag_hook, object_hook, str_errors, read_size: by position, a third cheaper.
    decoder = _DECODER(stream, None, None, "strict", size - 1 if size > 1 else 1)
    try:
        item = decoder.decode()
    except Exception as error:  # untrusted bytes: any failure of the decoder is the input's
        raise SigningError("bad_cbor", "not well-formed CBOR") from error
    if _POSITION_TELLS:
        if stream.tell() != size:
            raise SigningError("bad_cbor", "bytes follow the CBOR item")
    else:
        try:
            decoder.read(1)
        except cbor2.CBORDecodeEOF:
            pass
        else:
            raise SigningError("bad_cbor", "bytes follow the CBOR item")
    return item


def _bstr_head(length: int) -> bytes:
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


# The CBOR of ``["Signature1", protected, h'', payload]``, written directly: it is built for
# every verification, and this is several times faster than a general encoder.
_SIG1_PREFIX = b"\x84\x6aSignature1"


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    return b"".join((_SIG1_PREFIX, _bstr_head(len(protected)), protected, b"\x40",
                     _bstr_head(len(payload)), payload))


def sign1(payload: bytes, key: SigningKey, *, kid_protected: bool = True,
          deterministic: bool = False) -> bytes:
    """Return a tagged COSE_Sign1 of ``payload`` signed with ES256 under ``key``.

    Args:
        kid_protected: put the key id in the protected header (health codes) rather than
            the unprotected one (e-Channel tokens, card security objects).
    """
    if kid_protected:
        protected, unprotected = cbor_encode({_HEADER_ALG: ES256, _HEADER_KID: key.kid}), {}
    else:
        protected, unprotected = cbor_encode({_HEADER_ALG: ES256}), {_HEADER_KID: key.kid}
    signature = es256_sign(key, _to_be_signed(protected, payload), deterministic=deterministic)
    return cbor_encode(cbor2.CBORTag(_SIGN1_TAG, [protected, unprotected, payload, signature]))


@dataclass(frozen=True)
class SignedCode:
    """A signed message (a COSE_Sign1) read but not yet verified: its key id and payload.

    Look the key up by ``kid``, then ``verify_code`` checks the signature and returns the
    claims; ``payload`` is the claims' CBOR, unverified.
    """

    kid: bytes
    payload: bytes
    signature: bytes
    to_be_signed: bytes


_ABSENT = object()


@lru_cache(maxsize=64)
def _protected(protected: bytes) -> tuple[object, object]:
    # A verifier sees the same few protected headers (one per issuer key) again and again.
    headers = cbor_decode(protected, canonical=True) if protected else {}
    if not isinstance(headers, dict):
        raise SigningError("bad_cose", "the protected header is not a map")
    return headers.get(_HEADER_ALG), headers.get(_HEADER_KID, _ABSENT)


def open_sign1(message: bytes) -> SignedCode:
    """Read a tagged COSE_Sign1 without checking its signature.

    The message and its protected header must be in CBOR's deterministic encoding, as
    ``sign1`` writes them: the bytes around the signed payload have one encoding only.

    Raises:
        SigningError: ``bad_cbor`` or ``bad_cose`` for bytes that are not a COSE_Sign1 with
            a key id, ``unsupported_algorithm`` for an algorithm other than ES256.
    """
    if len(message) > _MAX_MESSAGE:
        raise SigningError("bad_cose", "message too large")
    members = _split_sign1(message)
    canonical = members is not None
    if members is None:
        members = _decode_sign1(message)
    protected, unprotected, payload, signature = members
    alg, kid = _protected(protected)
    if type(alg) is not int or alg != ES256:  # -7.0 equals -7 in Python, not in CBOR
        raise SigningError("unsupported_algorithm", "only ES256 is accepted")
    # Nothing in the unprotected header is signed: it holds the key id, when the protected
    # header does not, and nothing else, so that a message has no other encodings.
    if kid is _ABSENT:
        if unprotected.keys() != {_HEADER_KID}:
            raise SigningError("bad_cose", "the unprotected header holds only the key id")
        kid = unprotected[_HEADER_KID]
    elif unprotected:
        raise SigningError("bad_cose", "the unprotected header is not empty")
    if not isinstance(kid, bytes) or not kid:
        raise SigningError("bad_cose", "no key id")
    if not canonical:
        raise SigningError("bad_cbor", "not in deterministic encoding")
    return SignedCode(kid, payload, signature, _to_be_signed(protected, payload))


def _bstr_at(message: bytes, at: int) -> tuple[bytes, int] | None:
    """Read a byte string whose head is in shortest form at ``at``; None if there is none."""
    if at >= len(message):
        return None
    head = message[at]
    if 0x40 <= head < 0x58:
        length, at = head - 0x40, at + 1
    elif head == 0x58 and at + 1 < len(message) and message[at + 1] >= 24:
        length, at = message[at + 1], at + 2
    elif head == 0x59 and message[at + 1:at + 2] != b"\x00" and at + 3 <= len(message):
        length, at = int.from_bytes(message[at + 1:at + 3], "big"), at + 3
    else:  # longer heads than a message allows, or not a byte string
        return None
    end = at + length
    if end > len(message):
        return None
    return message[at:end], end


def _split_sign1(message: bytes) -> tuple[bytes, dict[int, bytes], bytes, bytes] | None:
    """Split a COSE_Sign1 written in deterministic encoding, byte by byte; None otherwise.

    What ``sign1`` writes has one shape: tag 18, an array of four, a byte string, an
    unprotected header that is empty or holds only a key id, and two byte strings. Reading
    that shape directly, with each head in its shortest form, both decodes the message
    and checks its encoding, at a fraction of a general decoder's cost; anything else is
    left to the general decoder, which says what is wrong.
    """
    if not message.startswith(b"\xd2\x84"):
        return None
    read = _bstr_at(message, 2)
    if read is None:
        return None
    protected, at = read
    unprotected: dict[int, bytes] = {}
    if message[at:at + 1] == b"\xa0":
        at += 1
    elif message[at:at + 2] == b"\xa1\x04":
        read = _bstr_at(message, at + 2)
        if read is None:
            return None
        unprotected[_HEADER_KID], at = read
    else:
        return None
    read = _bstr_at(message, at)
    if read is None:
        return None
    payload, at = read
    read = _bstr_at(message, at)
    if read is None or read[1] != len(message):
        return None
    return protected, unprotected, payload, read[0]


def _decode_sign1(message: bytes) -> tuple[bytes, dict[Any, Any], bytes, bytes]:
    """Decode a COSE_Sign1 in any CBOR encoding, naming what makes it none."""
    item = cbor_decode(message)
    if not isinstance(item, cbor2.CBORTag) or item.tag != _SIGN1_TAG:
        raise SigningError("bad_cose", "not a COSE_Sign1 tag")
    item = item.value
    if not isinstance(item, list) or len(item) != 4:
        raise SigningError("bad_cose", "a COSE_Sign1 is an array of four")
    protected, unprotected, payload, signature = item
    if not (isinstance(protected, bytes) and isinstance(unprotected, dict)
            and isinstance(payload, bytes) and isinstance(signature, bytes)):
        raise SigningError("bad_cose", "COSE_Sign1 members have the wrong types")
    return protected, unprotected, payload, signature
