"""The border officer's scanner reads an EU DCC and a SMART Health Card (text and photo)."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_pages import csrf_of, english, sign_in_staff
from tests.worldcodes.cases import SHC_ISSUERS, dcc_cases, shc_text


@pytest.fixture()
def foreign_trust() -> Iterator[Path]:
    """Give the scanner the example SMART Health Card issuer and one DCC signer, then
    take them away."""
    from borderpass.kit.config import get_settings

    folder = get_settings().foreign_trust_dir
    assert folder is not None and not folder.exists()
    shutil.copytree(SHC_ISSUERS, folder / "shc")
    (folder / "dcc").mkdir()
    case = next(case for case in dcc_cases() if case.name == "AT/2DCode/raw/1.json")
    (folder / "dcc" / "at.der").write_bytes(
        base64.b64decode(case.raw["TESTCTX"]["CERTIFICATE"]))
    yield folder
    shutil.rmtree(folder)


def test_the_scanner_reads_other_issuers_certificates(
    client: Any, staff_token: Any, foreign_trust: Path
) -> None:
    english(client)
    sign_in_staff(client, staff_token, "border_officer")
    token = csrf_of(client.get("/officer/scan").text)

    def scan(text: str) -> str:
        shown = client.post("/officer/scan/text", data={"csrf_token": token, "code_text": text})
        assert shown.status_code == 200, shown.text
        return str(shown.text)

    card = scan(shc_text("01"))
    assert 'class="code green"' in card and ">Valid certificate<" in card
    assert "John B. Anyperson · 1951-01-20" in card and "Moderna COVID-19 vaccine" in card
    assert "SMART Health Card · https://spec.smarthealth.cards/examples/issuer" in card
    cases = {case.name: case for case in dcc_cases()}
    expired = scan(cases["AT/2DCode/raw/1.json"].text)
    assert "Gabriele Musterfrau-Gößinger · 1998-02-26" in expired
    assert "The certificate has expired." in expired and "Not valid" in expired
    assert "EU Digital COVID Certificate · AT" in expired and "Comirnaty" in expired
    unknown = scan(cases["DE/2DCode/raw/1.json"].text)
    assert "Cannot verify" in unknown and "cannot be verified here" in unknown
    assert "This is not a health code" in scan("HC1:x") and "This is not a health code" in \
        scan("shc:/12")
    photo = client.post("/officer/scan/photo", data={"csrf_token": token}, files={
        "photo": ("dcc.png", base64.b64decode(cases["AT/2DCode/raw/1.json"].raw["2DCODE"]),
                  "image/png")})
    assert photo.status_code == 200 and "Gabriele Musterfrau-Gößinger" in photo.text
