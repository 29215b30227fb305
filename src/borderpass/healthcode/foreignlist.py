"""The trust material of other issuers' certificates, as the server verifies with it and as
the officers' scanner keeps it to verify them offline (docs/formats/dcc.md, shc.md).

``foreign_trust`` reads it from the folder the settings name (``dcc/``, ``shc/``);
``foreign_list`` puts the same material in the list the scanner fetches with the
verifier's file (``"foreign"``, signed by the anchor like the others), so that a
certificate gets the same verdict on the server and on the device.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from borderpass.healthcode.anycode import Trust
from borderpass.healthcode.lists import iso
from borderpass.kit.config import get_settings
from borderpass.kit.logging import get_logger
from borderpass.worldcodes.dcc import schema
from borderpass.worldcodes.trust import DccTrust, ShcIssuers, TrustMaterialError
from borderpass.worldcodes.valuesets import value_sets

__all__ = ["FOREIGN_TRUST", "foreign_list", "foreign_trust"]

log = get_logger(__name__)

FOREIGN_TRUST = "foreign-trust"


def foreign_trust() -> Trust:
    """Read the scanner's trust material for other issuers from the settings' folder.

    A folder that is missing or cannot be read trusts nobody (and says so in the log).
    """
    settings = get_settings()
    folder = settings.foreign_trust_dir or settings.var_dir / "foreign"
    dcc, shc = DccTrust(), ShcIssuers()
    try:
        if (folder / "dcc").is_dir():
            dcc = DccTrust.load([folder / "dcc"])
        if (folder / "shc").is_dir():
            shc = ShcIssuers.load(folder / "shc")
    except TrustMaterialError as error:
        log.warning("foreign_trust.unreadable", folder=str(folder), reason=error.reason,
                    problem=str(error))
    return Trust(dcc=dcc, shc=shc, prefix=settings.code_prefix)


def _signers(trust: DccTrust) -> list[dict[str, Any]]:
    return [{
        "kid": base64.b64encode(kid).decode("ascii"),
        "key_type": signer.key_type,
        "public_key": base64.b64encode(signer.public_key_der).decode("ascii"),
        "not_before": iso(signer.not_before),
        "not_after": iso(signer.not_after),
        "key_usages": sorted(signer.key_usages) if signer.key_usages is not None else None,
        "country": signer.country,
    } for kid, signers in sorted(trust.signers.items()) for signer in signers]


def _issuers(shc: ShcIssuers) -> list[dict[str, Any]]:
    issuers: dict[str, dict[str, Any]] = {
        iss: {"iss": iss, "keys": [], "revocations": []} for iss in sorted(shc.issuers)}
    for found in shc.keys.values():
        for key in found:
            issuers[key.iss]["keys"].append({**key.key.public_jwk,
                                             "crl_version": key.crl_version})
    for (iss, kid), crl in sorted(shc.revocations.items()):
        rids = [rid if stamp is None else f"{rid}.{stamp}" for rid, stamp in crl.rids.items()]
        issuers[iss]["revocations"].append({"kid": kid, "ctr": crl.ctr, "rids": rids})
    return list(issuers.values())


def foreign_list(trust: Trust, *, now: datetime) -> dict[str, Any] | None:
    """Return the content of the scanner's list of other issuers' trust material, or None
    when there is none.

    It holds the DCC document signers (key id, public key, validity, extended key
    usages, country), the SMART Health Card issuers (their keys as JWKs and their
    revocation lists), and what the device needs to read and name what they sign: the
    DCC schema and the value sets.
    """
    if not trust.dcc.signers and not trust.shc.issuers:
        return None
    return {
        "type": FOREIGN_TRUST, "version": 1, "jurisdiction": get_settings().jurisdiction,
        "issued_at": iso(now),
        "max_age_seconds": get_settings().trust_list_max_age_hours * 3600,
        "dcc": {"signers": _signers(trust.dcc), "schema": schema()},
        "shc": {"issuers": _issuers(trust.shc)},
        "value_sets": value_sets(),
    }
