"""Readiness and metrics: what a load balancer and Prometheus ask of each web process.

``/healthz`` (in ``web.app``) says the process is up. ``/readyz`` says it can serve:
the database answers, the job broker answers when one is configured, and the signing
keys load. ``/metrics`` is Prometheus' text: the request latencies of every worker, and
figures read when scraped from the database (the age of the published lists, the codes
issued today by colour) and from the job broker (jobs ready, running, delayed and dead
on each queue, for every worker at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.concurrency import run_in_threadpool

from borderpass.checkin import service as checkin
from borderpass.echannel import keys as echannel_keys
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.keys import ANCHOR_KEYS, CODE_KEYS, signing_key
from borderpass.kit import jobs
from borderpass.kit.clock import utcnow
from borderpass.kit.db import ping
from borderpass.kit.http import get_now, read_unit
from borderpass.kit.logging import get_logger
from borderpass.kit.metrics import CONTENT_TYPE, ScrapeCollector, exposition

__all__ = ["load_keys", "readiness", "router"]

log = get_logger(__name__)
router = APIRouter(tags=["operations"])


class BrokerDown(RuntimeError):
    """The job broker (Redis) does not answer."""


def _broker() -> None:
    if not jobs.broker_reachable():
        raise BrokerDown("the job broker does not answer")


def load_keys(now: datetime) -> None:
    """Load every key the web processes sign or decrypt with, making those missing in the
    embedded default (once, before the workers start, so that they never race to)."""
    signing_key(CODE_KEYS, now)
    signing_key(ANCHOR_KEYS, now)
    echannel_keys.gates()
    echannel_keys.card_authority()
    checkin.venue_trust()


def _check(name: str, probe: Callable[[], object]) -> tuple[str, str]:
    try:
        probe()
    except Exception as error:  # any failure at all makes the process not ready
        log.warning("readiness.failed", check=name, error=type(error).__name__)
        return name, f"failed: {type(error).__name__}"
    return name, "ok"


def readiness(request: Request) -> dict[str, str]:
    """Run each readiness check; return its outcome by name (``ok`` or why not)."""
    def database() -> None:
        with read_unit(request) as session:
            ping(session)

    checks: list[tuple[str, Callable[[], object]]] = [
        ("database", database), ("keys", lambda: load_keys(utcnow()))]
    if not jobs.embedded():  # a broker is configured: the jobs sent must reach it
        checks.append(("broker", _broker))
    return dict(_check(name, probe) for name, probe in checks)


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Tell whether this process can serve: database, broker (when configured), keys."""
    checks = await run_in_threadpool(readiness, request)
    ready = all(outcome == "ok" for outcome in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                        status_code=200 if ready else 503)


def _scraped(request: Request, now: datetime) -> Iterable[Metric]:
    """Read the figures that belong to no one process, at scrape time."""
    ages = GaugeMetricFamily(
        "borderpass_list_age_seconds",
        "How long ago each published list last changed: the trust list's keys, the "
        "revocation list's newest entry, the exposure list's generation.",
        labels=["list"])
    issued = GaugeMetricFamily("borderpass_codes_issued_today",
                               "Health codes issued today (Hong Kong day), by colour.",
                               labels=["colour"])
    with read_unit(request) as session:
        for name, age in sorted(healthcode.list_ages(session, now=now).items()):
            ages.add_metric([name], age)
        exposure = checkin.exposure_list_age(session, now=now)
        if exposure is not None:
            ages.add_metric(["exposure"], exposure)
        today = healthcode.codes_issued_per_day(session, days=1, now=now)[-1]
    for colour in ("green", "amber", "red"):
        issued.add_metric([colour], getattr(today, colour))
    families: list[Metric] = [ages, issued]
    if not jobs.embedded():  # without a broker, each process's jobs are its own affair
        families.append(_job_counts())
    return families


def _job_counts() -> Metric:
    """Count the jobs of each queue in the broker, for every worker at once."""
    family = GaugeMetricFamily(
        "borderpass_jobs",
        "Jobs in the broker by queue and state: ready (waiting), running, delayed "
        "(retries to come) and dead (failed for good).", labels=["queue", "state"])
    for count in jobs.queue_counts():
        for state in ("ready", "running", "delayed", "dead"):
            family.add_metric([count.queue, state], getattr(count, state))
    return family


def _metrics_text(request: Request, now: datetime) -> bytes:
    started = time.perf_counter()
    collected: list[Metric] = []
    try:
        collected = list(_scraped(request, now))
    except Exception as error:  # the request figures are still worth showing
        log.warning("metrics.scrape_failed", error=type(error).__name__)
    took = GaugeMetricFamily("borderpass_metrics_scrape_seconds",
                             "Time taken to read the scraped figures.",
                             value=time.perf_counter() - started)
    return exposition([ScrapeCollector(lambda: [*collected, took])])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Return the metrics in Prometheus' text format."""
    body: Any = await run_in_threadpool(_metrics_text, request, await get_now(request))
    return Response(body, media_type=CONTENT_TYPE)
