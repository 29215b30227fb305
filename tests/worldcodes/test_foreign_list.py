"""The list of other issuers' trust material that the scanner keeps to verify their
certificates offline: published with the verifier's file, signed by the anchor, and made
from the same material the server verifies with."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from borderpass.healthcode import service as healthcode
from borderpass.healthcode.foreignlist import FOREIGN_TRUST, foreign_trust
from borderpass.healthcode.lists import open_list
from borderpass.kit.clock import utcnow
from borderpass.kit.config import get_settings
from tests.worldcodes.cases import SHC_ISSUER, SHC_ISSUERS, dcc_cases


@pytest.fixture()
def folder() -> Iterator[Path]:
    """Trust the example SMART Health Card issuer and one DCC signer, then nobody."""
    folder = get_settings().foreign_trust_dir
    assert folder is not None and not folder.exists()
    shutil.copytree(SHC_ISSUERS, folder / "shc")
    (folder / "dcc").mkdir()
    case = next(case for case in dcc_cases() if case.name == "AT/2DCode/raw/1.json")
    (folder / "dcc" / "at.der").write_bytes(
        base64.b64decode(case.raw["TESTCTX"]["CERTIFICATE"]))
    yield folder
    shutil.rmtree(folder)


def test_no_foreign_list_without_trust_material(session: Any) -> None:
    assert "foreign" not in healthcode.export(session, now=utcnow())


def test_the_foreign_list_is_signed_by_the_anchor_and_holds_the_trust_material(
    session: Any, folder: Path
) -> None:
    now = utcnow()
    bundle = healthcode.export(session, now=now)
    content, kid = open_list(bundle["foreign"], FOREIGN_TRUST,
                             anchor=bundle["trust_list"]["kid"])
    assert kid == bundle["trust_list"]["kid"]
    assert content["version"] == 1 and content["max_age_seconds"] > 0
    # Lists that verify our own codes leave it out: it is the scanner's.
    assert "foreign" not in healthcode.export(session, now=now, foreign=False)

    trust = foreign_trust()
    [signer] = content["dcc"]["signers"]
    [(certificate,)] = trust.dcc.signers.values()
    assert base64.b64decode(signer["kid"]) == certificate.kid
    assert base64.b64decode(signer["public_key"]) == certificate.public_key_der
    assert signer["key_type"] == "EC P-256" and signer["country"] == "AT"
    assert signer["not_before"] == certificate.not_before.isoformat().replace("+00:00", "Z")
    assert signer["key_usages"] is None  # this signer names no extended key usage
    assert content["dcc"]["schema"]["$id"] == "https://id.uvci.eu/DCC.combined-schema.json"
    assert content["value_sets"]["product"]["EU/1/20/1528"] == "Comirnaty"

    [issuer] = content["shc"]["issuers"]
    assert issuer["iss"] == SHC_ISSUER
    assert [key["kid"] for key in issuer["keys"]] == [
        "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s",
        "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw"]
    first = issuer["keys"][0]
    assert first["x"] == "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw"
    assert first["y"] == "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8"
    assert first["kty"] == "EC" and first["crv"] == "P-256" and first["crl_version"] == 1
    assert issuer["keys"][1]["crl_version"] is None
    assert issuer["revocations"] == [{
        "kid": "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s", "ctr": 1,
        "rids": ["vwAjHdarZuc.1687450765", "FKDIxsTCGlU", "XkNHp2Iyk0Y.1687450765",
                 "TqB_qu_6OtM"]}]


def test_the_verifiers_file_served_to_the_scanner_carries_it(client: Any,
                                                             folder: Path) -> None:
    bundle = client.get("/api/trust-list/export").json()
    content, _kid = open_list(bundle["foreign"], FOREIGN_TRUST,
                              anchor=bundle["trust_list"]["kid"])
    assert content["shc"]["issuers"][0]["iss"] == SHC_ISSUER
