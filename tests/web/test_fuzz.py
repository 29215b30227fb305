"""Schemathesis over the OpenAPI document: no request, from anyone, gets a 5xx.

The app is served as the README says (``tests/web/served.py``), with the demo data and a
staff member of every role. For each operation of ``/openapi.json``, schemathesis
generates requests, both valid and invalid by the schema, and sends them with the
credentials of each role in turn (anonymous with the generated headers, a
resident, an applicant for a permit, the laboratory and the registry by API key, and
every staff role): every answer must be below 500, and none may time out.

Bounded for CI: at most ``MAX_EXAMPLES`` requests per operation, a fixed seed, no
shrinking, and a budget of ``BUDGET`` seconds for the whole run, shared equally between
the operations (each must get at least one request).
"""

from __future__ import annotations

import itertools
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (it is in the dev extras)")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.web.served import (  # noqa: E402
    RESIDENTS,
    STAFF,
    Server,
    call,
    mainland_id,
    resident_token,
    served,
    staff_token,
)

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("BORDERPASS_TEST_FUZZ_EXAMPLES", "39"))
BUDGET = float(os.environ.get("BORDERPASS_TEST_FUZZ_SECONDS", "60"))
TIMEOUT = 30.0
EXTRA_STAFF = (("fuzz-admin", "admin"), ("fuzz-venues", "venue_operator"))
# Operations that end the caller's own credentials run last, in this order, so that the
# other operations are fuzzed while every role's credentials still work.
LAST = ("DELETE /api/me", "DELETE /api/sessions")
AUTH_HEADERS = ("authorization", "x-api-key")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with served("fuzz", extra_staff=EXTRA_STAFF) as running:
        yield running


def credentials(server: Server) -> dict[str, dict[str, str]]:
    """The headers of every role (an empty dict: anonymous, with the generated headers)."""
    port = server.port
    roles: dict[str, dict[str, str]] = {"anonymous": {}}
    roles["resident"] = {"Authorization": f"Bearer {resident_token(port, RESIDENTS[0])}"}
    roles["resident, no test"] = {
        "Authorization": f"Bearer {resident_token(port, RESIDENTS[1])}"}
    applied = call(port, "POST", "/api/permits/applications", json_body={
        "mainland_id": mainland_id(990_001), "name": "李明", "phone": "+86 138 0013 8000",
        "permit_number": "C12345678", "kind": "emergency", "reason": "medical_treatment"})
    assert applied.status == 201, applied.body
    roles["applicant"] = {"Authorization": f"Bearer {applied.json()['access']['token']}"}
    roles["lab"] = {"X-API-Key": server.keys["lab"]}
    roles["registry"] = {"X-API-Key": server.keys["registry"]}
    users = {role: username for role, username in STAFF.items()}
    users.update({role: username for username, role in EXTRA_STAFF})
    for role, username in users.items():
        roles[role] = {"Authorization": f"Bearer {staff_token(port, username)}"}
    return roles


def headers_for(case: Any, role: dict[str, str]) -> dict[str, str]:
    """The case's headers, with the role's credentials instead of any generated ones."""
    headers = {str(k): str(v) for k, v in (case.headers or {}).items()}
    if role:
        headers = {k: v for k, v in headers.items() if k.lower() not in AUTH_HEADERS}
        headers.update(role)
    return headers


def test_no_5xx_for_any_role(server: Server) -> None:
    import requests
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    roles = credentials(server)
    names = sorted(roles)
    turn = itertools.count()  # each operation's cases go to the roles in turn
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: LAST.index(op.label) + 1 if op.label in LAST else 0)
    failures: list[str] = []
    not_generated: list[str] = []
    not_reached: list[str] = []
    sent = 0
    seen: Counter[int] = Counter()
    began = time.monotonic()
    session = requests.Session()
    until = [began]  # the current operation's deadline
    reached = [0]  # requests sent before the current operation

    for index, operation in enumerate(operations):
        # Each operation has its share of the budget, so that all are fuzzed when the
        # machine is slow (the suite's other worker, a server under load).
        until[0] = began + BUDGET * (index + 1) / len(operations)
        reached[0] = sent
        strategies = []
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                strategies.append(operation.as_strategy(generation_mode=mode))
            except Exception as error:
                not_generated.append(f"{operation.label} ({mode.value}): {error!r:.120}")
        if not strategies:
            continue

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def exercise(case: Any) -> None:
            nonlocal sent
            if time.monotonic() > until[0] and sent > reached[0]:
                return  # past its share of the budget, with at least one request sent
            role = names[next(turn) % len(names)]
            # Replace the case's own headers: case.call() would merge ours into them.
            case.headers = headers_for(case, roles[role])
            try:
                response = case.call(base_url=server.url, session=session, timeout=TIMEOUT)
            except requests.Timeout:
                failures.append(f"{case.operation.label} as {role}: time-out\n"
                                f"  {case.as_curl_command()}")
                return
            except (requests.ConnectionError, UnicodeError, ValueError) as error:
                failures.append(f"{case.operation.label} as {role}: {error!r:.200}\n"
                                f"  {case.as_curl_command()}")
                return
            sent += 1
            seen[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{case.operation.label} as {role}: {response.status_code} "
                                f"{response.text[:200]}\n  {case.as_curl_command()}")

        try:
            exercise()
        except Exception as error:
            not_generated.append(f"{operation.label}: {error!r:.200}")
        if sent == reached[0]:
            not_reached.append(operation.label)
    session.close()

    took = time.monotonic() - began
    said = (f"{sent} requests to {len(operations)} operations as {len(roles)} roles in "
            f"{took:.0f} s; operations that got no request: {not_reached}; could not generate: "
            f"{not_generated}")
    print(said, "; statuses:", dict(sorted(seen.items())))
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40]) + "\n" + said
    assert not not_reached, said
    assert call(server.port, "GET", "/healthz").status == 200
