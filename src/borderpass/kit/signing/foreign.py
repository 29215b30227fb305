"""Crypto recipes for other issuers' health certificates, read and verified offline.

Kept apart from :mod:`borderpass.kit.signing` so that package's list stays the few
recipes for our own codes; every failure is still a :class:`SigningError` with a reason.

- Their containers: ``b45decode`` (Base45 text), ``inflate_whole`` (one whole zlib or
  raw deflate stream, within a limit) and ``cbor_decode`` (strict CBOR).
- EU DCC: :class:`Certificate` and ``load_certificates`` (X.509 document signers and
  CSCAs, read once), ``certificate_issued_by`` (the CSCA check), and
  ``read_foreign_sign1``/``verify_foreign_sign1`` (a COSE_Sign1, ES256 or PS256).
- SMART Health Cards: :class:`JsonWebKey`, ``load_jwk`` and ``verify_jws_es256``.
"""

from borderpass.kit.signing._base45 import b45decode
from borderpass.kit.signing._cose import cbor_decode
from borderpass.kit.signing._deflate import inflate_whole
from borderpass.kit.signing._error import SigningError
from borderpass.kit.signing._foreign import (
    Certificate,
    ForeignSign1,
    JsonWebKey,
    certificate_issued_by,
    load_certificates,
    load_jwk,
    read_foreign_sign1,
    verify_foreign_sign1,
    verify_jws_es256,
)

__all__ = [
    "Certificate",
    "ForeignSign1",
    "JsonWebKey",
    "SigningError",
    "b45decode",
    "cbor_decode",
    "inflate_whole",
    "certificate_issued_by",
    "load_certificates",
    "load_jwk",
    "read_foreign_sign1",
    "verify_foreign_sign1",
    "verify_jws_es256",
]
