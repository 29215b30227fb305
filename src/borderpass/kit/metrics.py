"""Prometheus metrics: request latency per route, and the page that exposes them.

One web process keeps its metrics in memory. Several (``borderpass serve --workers N``)
each write theirs to files under one folder, named by ``PROMETHEUS_MULTIPROC_DIR``
before any worker starts (``prepare_multiprocess``), and whichever process answers
``/metrics`` adds them all up. Figures that belong to no process (how old the published
lists are, how many codes were issued today, how many jobs wait) are read when scraped,
by collectors the web layer hands to ``exposition``.

Requests are labelled with the route's template (``/api/people/{person_id}``), never
the raw path, so an id in a URL makes no new series; a path that matched no route is
``unmatched``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CONTENT_TYPE",
    "MULTIPROCESS_ENV",
    "RequestMetrics",
    "ScrapeCollector",
    "exposition",
    "prepare_multiprocess",
    "route_template",
]

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# From a cached page (a few ms) to a request that waited for its turn (seconds).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "borderpass_request_seconds",
    "Time from a request's arrival to the end of its answer, by route template.",
    ["method", "route", "status"],
    buckets=_BUCKETS,
)


def prepare_multiprocess(directory: Path) -> None:
    """Empty ``directory`` and name it for the worker processes about to start.

    Call it in the parent, before any worker imports ``prometheus_client``: the library
    chooses between memory and files when it is first imported. Files left by an earlier
    run would otherwise be added to this one's counts.
    """
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(mode=0o700, parents=True)
    os.environ[MULTIPROCESS_ENV] = str(directory)


def route_template(scope: Scope) -> str:
    """Return the template of the route that served ``scope`` (``unmatched`` for none)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope.get("app_root_path") or scope.get("root_path"):  # a mount (the static files)
        return str(scope.get("root_path") or scope.get("app_root_path")) + "/{path}"
    return "unmatched"


class RequestMetrics:
    """Time every HTTP request and count it under its route template and status class."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            method = str(scope.get("method", ""))
            # A client may send any method name: only the known ones make series.
            REQUEST_SECONDS.labels(method if method in _METHODS else "other",
                                   route_template(scope), f"{status // 100}xx").observe(
                time.perf_counter() - started)


class ScrapeCollector:
    """A collector whose figures are read when scraped, by ``read``."""

    def __init__(self, read: Callable[[], Iterable[Metric]]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        return list(self._read())


def exposition(collectors: Sequence[Collector] = ()) -> bytes:
    """Return the metrics in Prometheus' text format: every worker's (added up when
    several write to ``PROMETHEUS_MULTIPROC_DIR``) and then those of ``collectors``."""
    if os.environ.get(MULTIPROCESS_ENV):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        text = generate_latest(workers)
    else:
        text = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    for collector in collectors:
        scraped.register(collector)
    return text + generate_latest(scraped)
