"""The traffic ``bench/load.py`` sends, for locust (headless): one class per scenario.

``bench/load.py`` prepares the rig and writes what the users need (cookies, tokens,
code texts, bundles, bookings) to the JSON file named by ``BENCH_LOAD_DATA``;
the user class is named on locust's command line:

    Mixed      the paths real traffic takes, weighted roughly as they come: residents'
               code pages, verifications at the border, the lists verifiers and phones
               fetch, check-in uploads, a laboratory's batches and bookings
    Hello      GET /healthz only: what the same app and rig do with no work at all
    CodePage   GET /code only, signed in as a resident
    Verify     POST /api/health-codes/verify only

Each request is named by its route, so locust's table has one row per path.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

from borderpass.checkin.phone import Phone

HK = ZoneInfo("Asia/Hong_Kong")
DATA: dict[str, Any] = json.loads(open(os.environ["BENCH_LOAD_DATA"], encoding="utf-8").read())
_lanes = itertools.count()


class _Resident(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        lane = next(_lanes)
        self.resident = DATA["residents"][lane % len(DATA["residents"])]
        self.booking = DATA["bookings"][lane % len(DATA["bookings"])] if DATA["bookings"] \
            else None

    def code_page(self) -> None:
        with self.client.get("/code", headers={"Cookie": self.resident["cookie"]},
                             name="GET /code", catch_response=True) as reply:
            if reply.status_code != 200 or b'class="code ' not in (reply.content or b""):
                reply.failure(f"code page: {reply.status_code}")

    def verify(self) -> None:
        text = random.choice(DATA["codes"])
        with self.client.post("/api/health-codes/verify", json={"text": text},
                              name="POST /api/health-codes/verify",
                              catch_response=True) as reply:
            if reply.status_code != 200 or reply.json().get("result") != "valid":
                reply.failure(f"verify: {reply.status_code} {reply.text[:80]}")


class Mixed(_Resident):
    """The paths real traffic takes, in rough proportion."""

    @task(40)
    def code(self) -> None:
        self.code_page()

    @task(30)
    def check(self) -> None:
        self.verify()

    @task(5)
    def trust_list(self) -> None:
        self.client.get("/api/trust-list", name="GET /api/trust-list")

    @task(5)
    def revocations(self) -> None:
        self.client.get(f"/api/trust-list/revocations?since={DATA['revocations_through']}",
                        name="GET /api/trust-list/revocations")

    @task(8)
    def exposure_list(self) -> None:
        self.client.get("/api/checkin/exposure-list", name="GET /api/checkin/exposure-list")

    @task(5)
    def upload(self) -> None:
        bundle = Phone(self.resident["phone"], now=datetime.now(UTC)).upload_bundle(
            now=datetime.now(UTC))
        self.client.post("/api/checkin/uploads", name="POST /api/checkin/uploads",
                         headers={"Authorization": f"Bearer {self.resident['token']}"},
                         json={"consent": True, "bundle": bundle})

    @task(2)
    def evidence(self) -> None:
        now = datetime.now(HK)
        collected = (now - timedelta(hours=5)).isoformat(timespec="seconds")
        reported = (now - timedelta(hours=1)).isoformat(timespec="seconds")
        batch = [{"specimen_id": f"LOAD-{uuid.uuid4().hex[:16]}", "document_kind": "hkid",
                  "document_number": number, "collected_at": collected,
                  "reported_at": reported, "method": "PCR", "result": "negative",
                  "lab": "Demo Laboratory"} for number in random.sample(DATA["unregistered"], 10)]
        self.client.post("/api/evidence/tests", json=batch, name="POST /api/evidence/tests",
                         headers={"X-API-Key": DATA["lab_key"]})

    @task(5)
    def booking_round(self) -> None:
        if self.booking is None:
            return
        headers = {"Authorization": f"Bearer {self.booking['token']}"}
        path = self.booking["path"]
        self.client.post(path, json={"slot_id": self.booking["slot"]}, headers=headers,
                         name="POST /api/permits/applications/{id}/appointment")
        self.client.delete(path, headers=headers,
                           name="DELETE /api/permits/applications/{id}/appointment")


class Hello(FastHttpUser):
    """The same app's cheapest endpoint, on the event loop: the baseline."""

    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="GET /healthz")


class CodePage(_Resident):
    @task
    def code(self) -> None:
        self.code_page()


class Verify(_Resident):
    @task
    def check(self) -> None:
        self.verify()

