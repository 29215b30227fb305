"""No endpoint answers malformed input with a 500, and each error names what is wrong."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)

JSON_ENDPOINTS = [
    "/api/registrations/00000000-0000-0000-0000-000000000000/activate",
    "/api/sessions",
    "/api/staff/sessions",
    "/api/evidence/flags",
    "/api/evidence/testing-orders",
    "/api/evidence/high-risk-areas",
]

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(endpoint=st.sampled_from(JSON_ENDPOINTS), body=json_values)
def test_any_json_body_is_answered_without_a_server_error(
    client: Any, staff_token: Any, endpoint: str, body: Any
) -> None:
    _officer, token = staff_token("health_officer")
    response = client.post(endpoint, content=json.dumps(body),
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {token}"})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["error"]["code"]


@FUZZ
@given(content=st.binary(max_size=300), media=st.sampled_from(["text/csv", "application/json"]))
def test_any_batch_is_answered_without_a_server_error(
    client: Any, lab: Any, content: bytes, media: str
) -> None:
    _source, key = lab
    response = client.post("/api/evidence/tests", content=content,
                           headers={"Content-Type": media, "X-API-Key": key})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["error"]["code"] == "batch_rejected"


@FUZZ
@given(fields=st.dictionaries(
    st.sampled_from(["name_zh", "name_en", "document_kind", "document_number",
                     "document_issued_on", "hrp_number", "will_cross", "phone", "address",
                     "password", "locale", "pin_channel"]),
    st.text(max_size=40)), proof=st.binary(max_size=64))
def test_any_registration_form_is_answered_without_a_server_error(
    client: Any, fields: dict[str, str], proof: bytes
) -> None:
    registration = client.post("/api/registrations").json()["id"]
    response = client.post(f"/api/registrations/{registration}/details", data=fields,
                           files={"proof": ("f", proof, "application/octet-stream")})
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.json()["error"]["field"]


def test_text_no_database_stores_is_refused_naming_its_field(client: Any, staff_token: Any) -> None:
    # PostgreSQL refuses a NUL in text, and no database stores half a surrogate pair
    # (which a JSON escape can carry); each was a 500 from the failed write.
    _operator, token = staff_token("venue_operator")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    venue = '{"type": "supermarket", "name_en": "Shop", "name_zh": "店", "address": "1 Main St"}'
    for field, good, bad in (("name_en", '"Shop"', '"Sh\\u0000op"'),
                             ("name_zh", '"店"', '"\\uda25店"'),
                             ("address", '"1 Main St"', '"1 Main St \\udc00"')):
        body = venue.replace(f'"{field}": {good}', f'"{field}": {bad}', 1)
        assert body != venue
        response = client.post("/api/checkin/venues", content=body, headers=headers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert (error["code"], error["field"]) == ("unstorable_text", field)
    assert client.post("/api/checkin/venues", content=venue,
                       headers=headers).status_code == 201
    _officer, officer = staff_token("health_officer")
    response = client.get("/api/evidence/venues", params={"q": "sh\x00op"},
                          headers={"Authorization": f"Bearer {officer}"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "q"
