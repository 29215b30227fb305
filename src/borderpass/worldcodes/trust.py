"""The trust material of foreign codes, read from files a verifier keeps offline.

- EU DCC: document signer certificates (DSC), found by key id, optionally with the
  country signing CA certificates (CSCA) that issued them: when any CSCA is given, a DSC
  is trusted only if one of them signed it.
- SMART Health Cards: a folder of trusted issuers, each issuer URL mirrored as a path
  (``<folder>/<host>/<path>/.well-known/jwks.json``, and its revocation lists at
  ``.well-known/crl/<kid>.json``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from borderpass.kit.decoding import DecodeError, b64_decode, load_json
from borderpass.kit.signing.foreign import (
    Certificate,
    JsonWebKey,
    SigningError,
    certificate_issued_by,
    load_certificates,
    load_jwk,
)

__all__ = [
    "KEY_USAGE_OIDS",
    "DccSigner",
    "DccTrust",
    "IssuerKey",
    "RevocationList",
    "ShcIssuers",
    "TrustMaterialError",
]

# A whole gateway's list of document signers (some thousands) fits well within this.
_MAX_FILE = 16 * 1024 * 1024
# HCERT specification A.4; the deployed document signers (and the official test data)
# spell them with an extra ".0" after the enterprise arc, so both spellings are read.
KEY_USAGE_OIDS = {
    kind: frozenset({f"1.3.6.1.4.1.1847.2021.1.{n}", f"1.3.6.1.4.1.0.1847.2021.1.{n}"})
    for kind, n in (("t", 1), ("v", 2), ("r", 3))
}
_ANY_KEY_USAGE = frozenset().union(*KEY_USAGE_OIDS.values())
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SIGNATURE_LINE = re.compile(rb"[A-Za-z0-9+/=_-]{16,}")
_RID_ENTRY = re.compile(r"([A-Za-z0-9_-]{1,24})(?:\.(\d{1,12}))?")


class TrustMaterialError(Exception):
    """A file of trust material cannot be used; ``reason`` is a code, the message says where."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > _MAX_FILE:
            raise TrustMaterialError("trust_file_too_large", f"{path}: larger than 16 MiB")
        return path.read_bytes()
    except OSError as error:
        raise TrustMaterialError("trust_file_unreadable", f"{path}: {error.strerror}") from None


def _microseconds(moment: datetime) -> int:
    """Return an aware instant as whole microseconds since 1970-01-01 UTC, exactly.

    Raises:
        TypeError: ``moment`` is naive.
    """
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class DccSigner:
    """What the DCC verifier asks of a document signer, worked out once, not per code.

    ``not_before`` and ``not_after`` are the certificate's validity in microseconds since
    1970 (UTC); ``kinds`` the kinds of certificate (``v``, ``t``, ``r``) its extended key
    usage allows: all of them when it names none of the HCERT purposes.
    """

    certificate: Certificate
    not_before: int
    not_after: int
    kinds: frozenset[str]

    @classmethod
    def of(cls, certificate: Certificate) -> DccSigner:
        """Work out a document signer's facts."""
        stated = (certificate.key_usages or frozenset()) & _ANY_KEY_USAGE
        kinds = frozenset(kind for kind, oids in KEY_USAGE_OIDS.items()
                          if not stated or stated & oids)
        return cls(certificate, _microseconds(certificate.not_before),
                   _microseconds(certificate.not_after), kinds)


@dataclass(frozen=True)
class DccTrust:
    """Document signer certificates by key id; ``refused`` says which were left out and why.

    A key id may name more than one certificate: it is only the first 8 bytes of a hash
    (or what a trust list says), and the HCERT specification (section 3.3.3) asks that
    every certificate with the code's key id be tried. ``checked`` holds the same signers
    with what the verifier asks of each worked out when the trust is made, so ``signers``
    is not to be changed afterwards.
    """

    signers: Mapping[bytes, tuple[Certificate, ...]] = field(default_factory=dict)
    authorities: tuple[Certificate, ...] = ()
    refused: tuple[str, ...] = ()
    checked: Mapping[bytes, tuple[DccSigner, ...]] = field(init=False, repr=False,
                                                           compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checked", {
            kid: tuple(DccSigner.of(certificate) for certificate in certificates)
            for kid, certificates in self.signers.items()})

    @classmethod
    def from_certificates(cls, certificates: Iterable[Certificate]) -> DccTrust:
        """Sort certificates into CSCAs and DSCs (each under the key id its hash gives);
        with CSCAs, keep only the DSCs they signed."""
        return cls.from_entries((None, certificate) for certificate in certificates)

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[bytes | None, Certificate]]) -> DccTrust:
        """Like ``from_certificates``, each DSC under the key id given with it (as a trust
        list names it) or, when None, the one its hash gives."""
        authorities: list[Certificate] = []
        signers: list[tuple[bytes, Certificate]] = []
        for kid, certificate in entries:
            if certificate.is_ca:
                authorities.append(certificate)
            else:
                signers.append((certificate.kid if kid is None else kid, certificate))
        kept: dict[bytes, list[Certificate]] = {}
        refused = []
        for kid, signer in signers:
            if authorities and not any(certificate_issued_by(signer, authority)
                                       for authority in authorities):
                refused.append(f"{signer.subject}: not issued by any CSCA given")
                continue
            named = kept.setdefault(kid, [])
            if all(other.der != signer.der for other in named):  # the same one listed twice
                named.append(signer)
        return cls({kid: tuple(found) for kid, found in kept.items()}, tuple(authorities),
                   tuple(refused))

    @classmethod
    def load(cls, paths: Iterable[Path]) -> DccTrust:
        """Read certificate files (DER, PEM or base64), trust lists in the EU gateway's
        JSON (``kid`` and ``rawData`` of each certificate), or every such file in a folder.

        Raises:
            TrustMaterialError: a file cannot be read or holds no certificate.
        """
        entries: list[tuple[bytes | None, Certificate]] = []
        for path in paths:
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for file in files:
                content = _read(file)
                try:
                    listed = _trust_list(content)
                    entries.extend(listed if listed is not None else
                                   ((None, certificate)
                                    for certificate in load_certificates(content)))
                except SigningError as error:
                    raise TrustMaterialError("bad_certificate", f"{file}: {error}") from None
        return cls.from_entries(entries)


def _trust_list(content: bytes) -> list[tuple[bytes | None, Certificate]] | None:
    """Read a trust list as the EU gateway gives it, or None when the content is not JSON.

    A JSON array of entries, or an object whose ``certificates`` is one (as some national
    lists publish it, after a line that holds the list's signature). Each entry holds
    ``rawData`` (base64 DER) and, optionally, ``kid`` (base64) and ``certificateType``
    (``DSC`` or ``CSCA``; other entries are not certificates to use here).

    Raises:
        SigningError: ``bad_certificate`` for a list whose entries cannot be read.
    """
    text = content.removeprefix(b"\xef\xbb\xbf").lstrip()  # a byte order mark some editors write
    if text[:1] not in (b"[", b"{"):
        # A signature line first: base64 text, then the list.
        first, _, rest = text.partition(b"\n")
        text = rest.lstrip()
        if text[:1] != b"{" or _SIGNATURE_LINE.fullmatch(first.strip()) is None:
            return None
    try:
        document = load_json(text)
    except DecodeError as error:
        raise SigningError("bad_certificate", f"not a trust list: {error.reason}") from None
    items = document.get("certificates") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise SigningError("bad_certificate", "a trust list without a list of certificates")
    found: list[tuple[bytes | None, Certificate]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("rawData"), str):
            raise SigningError("bad_certificate", "a trust list entry without rawData")
        if item.get("certificateType", "DSC") not in ("DSC", "CSCA"):
            continue
        kid = item.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise SigningError("bad_certificate", "a trust list entry whose kid is not text")
        try:
            der = b64_decode(item["rawData"])
            named = b64_decode(kid) if kid is not None else None
        except DecodeError as error:
            raise SigningError("bad_certificate",
                               f"a trust list entry not in base64: {error.reason}") from None
        found.append((named, Certificate.from_der(der)))
    return found


@dataclass(frozen=True)
class IssuerKey:
    """A SMART Health Card issuer's key: ``crl_version`` is set when it keeps a revocation list."""

    iss: str
    key: JsonWebKey
    crl_version: int | None


@dataclass(frozen=True)
class RevocationList:
    """An issuer's revocation list for one key: revoked ``rid``s, each with its optional
    timestamp (cards whose ``nbf`` is before it are revoked; None: all)."""

    kid: str
    ctr: int
    rids: Mapping[str, int | None]

    @classmethod
    def from_json(cls, value: Any) -> RevocationList:
        """Read a revocation list file's content.

        Raises:
            TrustMaterialError: ``bad_revocation_list`` when it is not one.
        """
        if not isinstance(value, dict) or value.get("method") != "rid":
            raise TrustMaterialError("bad_revocation_list", "not a revocation list of rids")
        kid, ctr, entries = value.get("kid"), value.get("ctr"), value.get("rids")
        if not isinstance(kid, str) or type(ctr) is not int or not isinstance(entries, list):
            raise TrustMaterialError("bad_revocation_list", "kid, ctr or rids missing")
        rids: dict[str, int | None] = {}
        for entry in entries:
            match = _RID_ENTRY.fullmatch(entry) if isinstance(entry, str) else None
            if match is None:
                raise TrustMaterialError("bad_revocation_list", f"not a rid: {entry!r}")
            rid, stamp = match.group(1), match.group(2)
            # The widest revocation wins when a rid is listed twice.
            previous = rids.get(rid, 0)
            new = int(stamp) if stamp is not None else None
            rids[rid] = None if previous is None or new is None else max(previous, new)
        return cls(kid, ctr, rids)

    def revokes(self, rid: str, nbf: float) -> bool:
        """Tell whether a card with this ``rid`` issued at ``nbf`` is revoked."""
        if rid not in self.rids:
            return False
        stamp = self.rids[rid]
        return stamp is None or (math.isfinite(nbf) and nbf < stamp)


@dataclass(frozen=True)
class ShcIssuers:
    """Trusted SMART Health Card issuers: their keys by ``kid`` and revocation lists."""

    keys: Mapping[str, tuple[IssuerKey, ...]] = field(default_factory=dict)
    issuers: frozenset[str] = frozenset()
    revocations: Mapping[tuple[str, str], RevocationList] = field(default_factory=dict)
    """By ``(iss, kid)``."""
    refused: tuple[str, ...] = ()

    @classmethod
    def load(cls, folder: Path) -> ShcIssuers:
        """Read a folder of trusted issuers (``<host>/<path>/.well-known/jwks.json``).

        A key whose ``kid`` is not its RFC 7638 thumbprint, or that is not an ES256 key,
        is left out and noted in ``refused``.

        Raises:
            TrustMaterialError: the folder cannot be read, or a file in it is not JSON.
        """
        if not folder.is_dir():
            raise TrustMaterialError("trust_file_unreadable", f"{folder}: not a folder")
        keys: dict[str, list[IssuerKey]] = {}
        issuers, refused = set(), []
        revocations: dict[tuple[str, str], RevocationList] = {}
        for jwks in sorted(folder.rglob(".well-known/jwks.json")):
            base = jwks.parent.parent.relative_to(folder)
            iss = "https://" + "/".join(base.parts)
            issuers.add(iss)
            document = _json(jwks)
            members = document.get("keys") if isinstance(document, dict) else None
            if not isinstance(members, list):
                raise TrustMaterialError("bad_jwks", f"{jwks}: no keys array")
            for member in members:
                try:
                    key = load_jwk(member)
                except SigningError as error:
                    refused.append(f"{iss}: a key refused ({error})")
                    continue
                if key.kid != key.thumbprint:
                    refused.append(f"{iss}: key {key.kid} is not named by its thumbprint")
                    continue
                version = member.get("crlVersion")
                crl_version = version if type(version) is int else None
                keys.setdefault(key.kid, []).append(IssuerKey(iss, key, crl_version))
                crl = jwks.parent / "crl" / f"{key.kid}.json"
                if crl.is_file():
                    try:
                        revocations[(iss, key.kid)] = RevocationList.from_json(_json(crl))
                    except TrustMaterialError as error:
                        raise TrustMaterialError(error.reason, f"{crl}: {error}") from None
        return cls({kid: tuple(found) for kid, found in keys.items()}, frozenset(issuers),
                   revocations, tuple(refused))


def _json(path: Path) -> Any:
    try:
        return load_json(_read(path))
    except DecodeError as error:
        raise TrustMaterialError("bad_json", f"{path}: {error.reason}") from None
