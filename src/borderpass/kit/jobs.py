"""Background jobs: Dramatiq actors, sent only once the unit of work that asked commits.

The public API (stable; other parts build on it):

``@actor(name, *, queue="default", every=None, unit=True, max_retries=None,
time_limit_seconds=None)``
    Declare a job. With ``unit`` (the default) the function is called as
    ``fn(session, *args)`` inside a unit of work of its own (``kit.db.unit_of_work``,
    committed when it returns, rolled back when it raises, like a command); otherwise as
    ``fn(*args)``. ``every`` (a ``timedelta``, or a function returning one, read when the
    scheduler starts) makes it periodic: the scheduler sends it once in each period. Names
    are dotted, ``<part>.<what>`` (``outbox.deliver``); arguments are JSON values (ids as
    strings). Each domain declares its jobs in its ``jobs.py``; ``wiring`` imports them,
    and a service that sends its own domain's jobs imports that module too (which imports
    the service only inside the jobs), so that they are declared wherever it is used.
    ``jobs()`` lists every declared job.
``enqueue(session, name, *args, delay_seconds=None)``
    Collect a job in the session's unit of work. It is sent when that unit commits and
    dropped when it (or the savepoint it was collected in) rolls back, so a job never
    sees a change that did not happen. The same job with the same arguments is collected
    once per unit. An unknown name raises ``LookupError`` at once.
``send(name, *args, delay_seconds=None)``
    Send a job now, outside any unit of work (the scheduler; a command's fan-out).
``now()``
    The instant a job should take as ``now`` (tests may pin it with ``bind``).
``unit()``
    A unit of work for a job that opens several (``unit=False`` jobs).
``broker_reachable()``, ``queue_counts()``, ``dead_letters(limit)``
    For readiness, metrics and operators: whether the broker answers, how many jobs wait,
    run, are delayed (retries) or are dead on each queue, and the last dead jobs with the
    reason each failed for good.
``QUEUES``
    ``default``, and ``bulk`` for fan-outs of many jobs (re-evaluating a population) that
    must not hold up a PIN.
``run_worker(processes, threads, setup)``, ``run_scheduler(stop)``, ``Scheduler``
    What ``borderpass worker`` and ``borderpass scheduler`` run (``Scheduler.tick`` sends
    what is due once).
``embedded()``, ``start_embedded()``, ``drain()``
    Without a broker (``BORDERPASS_REDIS_URL`` empty, the embedded default) jobs go to an
    in-memory broker and run in the process that sent them: the web process starts a
    worker thread and a scheduler thread (``start_embedded``); a command runs what it
    sent before it exits (``drain``).
``forwarded()``, ``Forwarded``
    In a worker process of a web process's pool (``kit.offload``) without a broker: keep
    the jobs sent in the block, for the web process to send to its in-memory broker.
``bind(factory=None, clock=None)``, ``clear()``, ``reset_broker()``
    For tests: run jobs on the test's session factory and clock; forget queued jobs;
    build the broker again from the settings.

Delivery: a job is acknowledged only after it has run (Dramatiq's Redis broker keeps it
in the worker's acknowledgement group until then; a worker that dies has its jobs put
back once it stops beating, ``BORDERPASS_JOBS_WORKER_TIMEOUT_SECONDS``). A job that
raises is retried with exponential backoff up to ``BORDERPASS_JOBS_MAX_RETRIES`` times,
then dead-lettered (Dramatiq's dead-letter queue), and its reason is logged
(``job.dead``) and kept for ``dead_letters``. So a job may run more than once: every job
is written to be idempotent.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, Retries, ShutdownNotifications, TimeLimit
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from borderpass.kit.clock import utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import unit_of_work
from borderpass.kit.logging import configure_logging, get_logger

__all__ = [
    "QUEUES",
    "DeadLetter",
    "Embedded",
    "Forwarded",
    "Job",
    "QueueCount",
    "Scheduler",
    "actor",
    "bind",
    "broker",
    "broker_reachable",
    "clear",
    "dead_letters",
    "drain",
    "embedded",
    "enqueue",
    "forwarded",
    "freeze_heap",
    "jobs",
    "now",
    "queue_counts",
    "reset_broker",
    "run_scheduler",
    "run_worker",
    "send",
    "start_embedded",
    "unit",
]

log = get_logger(__name__)

QUEUES = ("default", "bulk")
_PENDING = "borderpass.jobs.pending"
_DEAD_KEY = "dead"
_DEAD_KEPT = 1000

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Job:
    """A declared job: its name, function and how it runs."""

    name: str
    fn: Callable[..., Any]
    queue: str
    unit: bool
    every: timedelta | Callable[[], timedelta] | None
    max_retries: int | None
    time_limit_seconds: float | None

    def period(self) -> timedelta | None:
        """Return how often the scheduler sends this job, or None if it is not periodic."""
        if self.every is None or isinstance(self.every, timedelta):
            return self.every
        return self.every()


@dataclass(frozen=True)
class QueueCount:
    """The jobs on one queue: waiting, running, delayed (retries to come) and dead."""

    queue: str
    ready: int
    running: int
    delayed: int
    dead: int


@dataclass(frozen=True)
class DeadLetter:
    """A job that failed for good, and why."""

    message_id: str
    name: str
    args: list[Any]
    reason: str
    retries: int
    failed_at: datetime


_JOBS: dict[str, Job] = {}


def actor(name: str, *, queue: str = "default", every: timedelta | Callable[[], timedelta]
          | None = None, unit: bool = True, max_retries: int | None = None,
          time_limit_seconds: float | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare the decorated function as the job ``name`` (see the module's docstring).

    Raises:
        ValueError: the name is taken by another function, or the queue is not one of
            ``QUEUES``.
    """
    if queue not in QUEUES:
        raise ValueError(f"job {name!r}: queue {queue!r} is not one of {QUEUES}")

    def declare(fn: Callable[P, R]) -> Callable[P, R]:
        known = _JOBS.get(name)
        if known is not None and (known.fn.__module__, known.fn.__qualname__) != (
                fn.__module__, fn.__qualname__):
            raise ValueError(f"job {name!r} is declared twice")
        job = Job(name, fn, queue, unit, every, max_retries, time_limit_seconds)
        _JOBS[name] = job
        with _LOCK:
            if _STATE.broker is not None and name not in _STATE.broker.actors:
                _declare(_STATE.broker, job)
        return fn

    return declare


def jobs() -> dict[str, Job]:
    """Return every declared job by name."""
    return dict(_JOBS)


# -- the unit of work that jobs run in, and their clock ------------------------------------


class _Binding:
    factory: sessionmaker[Session] | None = None
    clock: Callable[[], datetime] | None = None


_BINDING = _Binding()


def now() -> datetime:
    """Return the instant a job takes as now."""
    return (_BINDING.clock or utcnow)()


@contextmanager
def unit() -> Iterator[Session]:
    """Open a job's unit of work: it commits when the block succeeds, rolls back if not."""
    with unit_of_work(_BINDING.factory) as session:
        yield session


@contextmanager
def bind(factory: sessionmaker[Session] | None = None,
         clock: Callable[[], datetime] | None = None) -> Iterator[None]:
    """Run jobs on this session factory and clock while the block lasts (tests)."""
    before = (_BINDING.factory, _BINDING.clock)
    _BINDING.factory, _BINDING.clock = factory, clock
    try:
        yield
    finally:
        _BINDING.factory, _BINDING.clock = before


# -- collecting in a unit of work, sending after it commits ---------------------------------


@dataclass(frozen=True)
class _Pending:
    name: str
    args: tuple[Any, ...]
    delay_ms: int | None
    transaction: SessionTransaction


def enqueue(session: Session, name: str, *args: Any, delay_seconds: float | None = None) -> None:
    """Collect the job ``name`` in the session's unit of work; it is sent after the commit.

    Raises:
        LookupError: no job of that name is declared.
        TypeError: an argument is not a JSON value.
    """
    if name not in _JOBS:
        raise LookupError(f"no job named {name!r} (are the domains' jobs wired?)")
    _check_args(name, args)
    transaction = session.get_nested_transaction() or session.get_transaction() \
        or session.begin()
    delay_ms = None if delay_seconds is None else int(delay_seconds * 1000)
    pending: list[_Pending] = session.info.setdefault(_PENDING, [])
    if any(p.name == name and p.args == args and p.delay_ms == delay_ms for p in pending):
        return
    pending.append(_Pending(name, args, delay_ms, transaction))


def _check_args(name: str, args: tuple[Any, ...]) -> None:
    try:
        json.dumps(args)
    except (TypeError, ValueError):
        raise TypeError(f"job {name!r}: arguments must be JSON values (ids as strings)") \
            from None


def _within(transaction: SessionTransaction, ended: SessionTransaction) -> bool:
    current: SessionTransaction | None = transaction
    while current is not None:
        if current is ended:
            return True
        current = current.parent
    return False


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: the unit itself has not committed yet
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    for job in pending:
        _send_quietly(job.name, job.args, job.delay_ms)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending:
        pending[:] = [job for job in pending if not _within(job.transaction, previous)]


def _send_quietly(name: str, args: tuple[Any, ...], delay_ms: int | None) -> None:
    # The unit has committed: its answer must not turn into an error now. A job that
    # could not be sent is logged; the periodic sweeps (the outbox's) pick up what it
    # would have done.
    try:
        _send(name, args, delay_ms)
    except Exception as error:  # noqa: BLE001 - any broker failure is logged, not raised
        log.error("job.not_sent", job=name, error=f"{type(error).__name__}: {error}"[:300])


def send(name: str, *args: Any, delay_seconds: float | None = None) -> None:
    """Send the job ``name`` now, outside any unit of work.

    Raises:
        LookupError: no job of that name is declared.
        TypeError: an argument is not a JSON value.
    """
    if name not in _JOBS:
        raise LookupError(f"no job named {name!r} (are the domains' jobs wired?)")
    _check_args(name, args)
    _send(name, args, None if delay_seconds is None else int(delay_seconds * 1000))


@dataclass(frozen=True)
class Forwarded:
    """A job kept to be sent by another process (see ``forwarded``)."""

    name: str
    args: tuple[Any, ...]
    delay_seconds: float | None


class _Forwarding(threading.local):
    kept: list[Forwarded] | None = None


_FORWARDING = _Forwarding()


@contextmanager
def forwarded() -> Iterator[list[Forwarded]]:
    """Keep, instead of sending, the jobs sent in the block, when there is no broker.

    The in-memory broker lives in the web process; a worker process of its pool
    (``kit.offload``) hands the jobs back to it. With Redis, jobs are sent as usual and the
    list stays empty.
    """
    kept: list[Forwarded] = []
    if not embedded():
        yield kept
        return
    before, _FORWARDING.kept = _FORWARDING.kept, kept
    try:
        yield kept
    finally:
        _FORWARDING.kept = before


def _send(name: str, args: tuple[Any, ...], delay_ms: int | None) -> None:
    if _FORWARDING.kept is not None:
        _FORWARDING.kept.append(
            Forwarded(name, args, None if delay_ms is None else delay_ms / 1000))
        return
    current = broker()
    current.get_actor(name).send_with_options(args=args, delay=delay_ms)
    log.debug("job.sent", job=name)


# -- the broker ------------------------------------------------------------------------------


class _State:
    broker: dramatiq.Broker | None = None
    dead: deque[DeadLetter] = deque(maxlen=_DEAD_KEPT)
    client: Any = None
    namespace: str = "borderpass"


_STATE = _State()
_LOCK = threading.RLock()


def embedded() -> bool:
    """Tell whether jobs run inside the process that sends them (no broker configured)."""
    return not get_settings().redis_url


class _Beat(threading.local):
    forced = False


class _RedisBroker(RedisBroker):
    """Dramatiq's Redis broker, whose upkeep (putting back the jobs of a worker that died)
    also runs when a worker's beat asks, not only by chance."""

    _beat = _Beat()

    def _should_do_maintenance(self, command: str) -> int:
        if self._beat.forced:
            return 1
        return int(super()._should_do_maintenance(command))

    def beat(self) -> None:
        """Tell Redis this worker lives, and put back the jobs of workers that died."""
        self._beat.forced = True
        try:
            for queue in QUEUES:
                for name in (queue, f"{queue}.DQ"):
                    self.do_qsize(name)
        finally:
            self._beat.forced = False


class _Outcome(Middleware):
    """Logs each job's end; keeps the reason of a job dead-lettered."""

    def __init__(self) -> None:
        # Kept here, not in the message's options, which a retry would carry along.
        self.started: dict[str, float] = {}

    def before_process_message(self, _broker: dramatiq.Broker, message: Any) -> None:
        self.started[message.message_id] = time.monotonic()

    def after_process_message(self, _broker: dramatiq.Broker, message: Any, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        began = self.started.pop(message.message_id, None)
        took = round((time.monotonic() - began) * 1000, 1) if began is not None else None
        if exception is None:
            log.info("job.done", job=message.actor_name, id=message.message_id, ms=took)
            return
        reason = f"{type(exception).__name__}: {exception}"[:500]
        retries = int(message.options.get("retries", 0))
        if not message.failed:
            log.warning("job.failed", job=message.actor_name, id=message.message_id,
                        retries=retries, reason=reason, ms=took)
            return
        letter = DeadLetter(message.message_id, message.actor_name, list(message.args), reason,
                            max(0, retries - 1), datetime.now(UTC))
        log.error("job.dead", job=letter.name, id=letter.message_id, retries=letter.retries,
                  reason=reason)
        _keep_dead(letter)

    def after_skip_message(self, _broker: dramatiq.Broker, message: Any) -> None:
        self.started.pop(message.message_id, None)


def _keep_dead(letter: DeadLetter) -> None:
    if _STATE.client is None:
        _STATE.dead.appendleft(letter)
        return
    record = json.dumps({"message_id": letter.message_id, "name": letter.name,
                         "args": letter.args, "reason": letter.reason,
                         "retries": letter.retries, "failed_at": letter.failed_at.isoformat()})
    key = f"{_STATE.namespace}:{_DEAD_KEY}"
    try:
        _STATE.client.lpush(key, record)
        _STATE.client.ltrim(key, 0, _DEAD_KEPT - 1)
    except Exception as error:  # noqa: BLE001 - the log line above already has the reason
        log.warning("job.dead_not_kept", id=letter.message_id, error=type(error).__name__)


def _middleware() -> list[Middleware]:
    settings = get_settings()
    # Dramatiq runs the "after" hooks last to first: the outcome sees what Retries decided.
    return [
        _Outcome(),
        TimeLimit(time_limit=int(settings.jobs_time_limit_seconds * 1000)),
        ShutdownNotifications(),
        Retries(max_retries=settings.jobs_max_retries,
                min_backoff=int(settings.jobs_min_backoff_seconds * 1000),
                max_backoff=int(settings.jobs_max_backoff_seconds * 1000)),
    ]


def broker() -> dramatiq.Broker:
    """Return the broker of this process, built from the settings on first use."""
    with _LOCK:
        if _STATE.broker is not None:
            return _STATE.broker
        settings = get_settings()
        made: dramatiq.Broker
        if settings.redis_url:
            import redis

            client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3,
                                          socket_timeout=10, health_check_interval=30)
            made = _RedisBroker(  # type: ignore[no-untyped-call]
                client=client, namespace=settings.jobs_namespace, middleware=_middleware(),
                heartbeat_timeout=int(settings.jobs_worker_timeout_seconds * 1000))
            _STATE.client, _STATE.namespace = client, settings.jobs_namespace
        else:
            made = StubBroker(middleware=_middleware(), fail_fast_default=False)
            _STATE.client = None
        for queue in QUEUES:
            made.declare_queue(queue)
        for job in _JOBS.values():
            _declare(made, job)
        dramatiq.set_broker(made)
        _STATE.broker = made
        return made


def _declare(into: dramatiq.Broker, job: Job) -> None:
    def run(*args: Any) -> None:
        if job.unit:
            with unit() as session:
                job.fn(session, *args)
        else:
            job.fn(*args)

    run.__module__ = job.fn.__module__
    run.__qualname__ = run.__name__ = job.fn.__qualname__
    options: dict[str, Any] = {}
    if job.max_retries is not None:
        options["max_retries"] = job.max_retries
    if job.time_limit_seconds is not None:
        options["time_limit"] = int(job.time_limit_seconds * 1000)
    dramatiq.Actor(run, broker=into, actor_name=job.name, queue_name=job.queue, priority=0,
                   options=options)


def reset_broker() -> None:
    """Forget this process's broker; the next use builds it again from the settings."""
    with _LOCK:
        if _STATE.broker is not None:
            _STATE.broker.close()
        _STATE.broker, _STATE.client = None, None
        _STATE.dead.clear()


def clear() -> None:
    """Drop every job waiting on this process's broker, and the dead ones it keeps."""
    current = broker()
    current.flush_all()
    _STATE.dead.clear()
    if _STATE.client is not None:
        _STATE.client.delete(f"{_STATE.namespace}:{_DEAD_KEY}")


def broker_reachable() -> bool:
    """Tell whether the broker answers (the in-memory one always does)."""
    current = broker()
    if _STATE.client is None:
        return True
    try:
        return bool(_STATE.client.ping())
    except Exception:  # noqa: BLE001 - any failure to answer means not reachable
        return False
    finally:
        del current


def queue_counts() -> list[QueueCount]:
    """Count the jobs of each queue: ready, running, delayed and dead.

    Raises:
        redis.RedisError: the broker does not answer.
    """
    current = broker()
    if _STATE.client is None:
        assert isinstance(current, StubBroker)  # noqa: S101 - no client means the stub
        return [QueueCount(queue, current.queues[queue].qsize(),
                           max(0, current.queues[queue].unfinished_tasks
                               - current.queues[queue].qsize()),
                           current.queues[f"{queue}.DQ"].qsize(),
                           len(current.dead_letters_by_queue[queue])) for queue in QUEUES]
    ns = _STATE.namespace
    pipe = _STATE.client.pipeline(transaction=False)
    for queue in QUEUES:
        pipe.llen(f"{ns}:{queue}")
        pipe.hlen(f"{ns}:{queue}.msgs")
        pipe.hlen(f"{ns}:{queue}.DQ.msgs")
        pipe.zcard(f"{ns}:{queue}.XQ")
    values = pipe.execute()
    counts = []
    for index, queue in enumerate(QUEUES):
        ready, held, delayed, dead = (int(v) for v in values[index * 4:index * 4 + 4])
        counts.append(QueueCount(queue, ready, max(0, held - ready), delayed, dead))
    return counts


def dead_letters(limit: int = 100) -> list[DeadLetter]:
    """Return the last jobs that failed for good, newest first, each with its reason."""
    broker()
    if _STATE.client is None:
        return list(_STATE.dead)[:limit]
    records = _STATE.client.lrange(f"{_STATE.namespace}:{_DEAD_KEY}", 0, max(0, limit - 1))
    letters = []
    for raw in records:
        item = json.loads(raw)
        letters.append(DeadLetter(item["message_id"], item["name"], item["args"],
                                  item["reason"], item["retries"],
                                  datetime.fromisoformat(item["failed_at"])))
    return letters


# -- running: workers, the scheduler, the embedded runner ---------------------------------


_HEAP_FROZEN: list[bool] = []


def freeze_heap(*, batch: bool = False) -> None:
    """Leave what this process holds now (its code, settings, engine) out of the garbage
    collector's passes, once per process; a worker or a web process calls it when it has
    loaded what it runs.

    A job that reads many rows (a page of a re-evaluation's people) makes and keeps many
    thousands of objects, which sets off full collections, and a full collection walks
    every object the process holds: with the whole application loaded, that cost over a
    quarter of re-evaluation's time per person, and in a web process it is a pause of the
    request that happens to set it off. Frozen, a full collection walks only what was
    made since. What is garbage now is collected first; what is frozen stays for the life
    of the process, as it would.

    With ``batch`` (a worker's process, where no one waits on a pause), the young passes
    also run less often: after 100,000 new objects rather than 700, since a page of
    people keeps its objects until the page is saved and each pass would walk them again
    (about 5 % of re-evaluation's time). Reference counting frees nearly everything
    anyway; the passes are for cycles.
    """
    if not _HEAP_FROZEN:
        gc.collect()
        gc.freeze()
        if batch:
            gc.set_threshold(100_000, 50, 100)
        _HEAP_FROZEN.append(True)


class _Beater(threading.Thread):
    """Beats for this worker process and puts back the jobs of workers that died."""

    def __init__(self, current: _RedisBroker, every: float) -> None:
        super().__init__(name="borderpass-jobs-beat", daemon=True)
        self.current, self.every, self.stopping = current, every, threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            try:
                self.current.beat()
            except Exception as error:  # noqa: BLE001 - the broker may be away for a while
                log.warning("job.beat_failed", error=type(error).__name__)


def _work(threads: int, queues: set[str] | None, stop: threading.Event,
          stop_seconds: float | None = None) -> None:
    current = broker()
    worker = dramatiq.Worker(current, worker_threads=threads, queues=queues,
                             worker_timeout=500)
    beater = None
    if isinstance(current, _RedisBroker):
        current.beat()  # jobs of a worker that died are put back now, not by chance
        beater = _Beater(current, max(0.5, get_settings().jobs_worker_timeout_seconds / 4))
        beater.start()
    freeze_heap(batch=True)  # the actors and the app are loaded: what follows is the jobs'
    worker.start()
    log.info("worker.started", pid=os.getpid(), threads=threads,
             queues=sorted(queues or QUEUES), jobs=len(_JOBS))
    try:
        stop.wait()
    finally:
        log.info("worker.stopping", pid=os.getpid())
        waited = get_settings().jobs_time_limit_seconds if stop_seconds is None else stop_seconds
        worker.stop(timeout=int(waited * 1000))
        _forget_worker(current, worker)
        if beater is not None:
            beater.stopping.set()


def _worker_process(setup: Callable[[], None] | None, threads: int,
                    queues: set[str] | None) -> None:
    if setup is not None:
        setup()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_file, json=settings.log_json,
                      stderr_level="WARNING")
    reset_broker()  # a broker made before the fork holds the parent's connections
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    _work(threads, queues, stop)


def run_worker(*, processes: int = 1, threads: int = 8, queues: set[str] | None = None,
               setup: Callable[[], None] | None = None,
               stop: threading.Event | None = None) -> None:
    """Run workers for every declared job until SIGTERM or SIGINT (or ``stop``).

    ``processes`` above 1 starts that many worker processes (``setup``, a module-level
    function, runs first in each: the wiring) and starts again one that dies.
    """
    if stop is None:
        stop = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
    if processes <= 1:
        _work(threads, queues, stop)
        return
    context = multiprocessing.get_context("spawn")
    children: list[Any] = []

    def start() -> Any:
        child = context.Process(target=_worker_process, args=(setup, threads, queues),
                                name="borderpass-worker")
        child.start()
        return child

    children = [start() for _ in range(processes)]
    while not stop.wait(1.0):
        for index, child in enumerate(children):
            if not child.is_alive():
                log.warning("worker.died", pid=child.pid, exitcode=child.exitcode)
                children[index] = start()
    for child in children:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join()


def _periodic() -> list[tuple[Job, float]]:
    found = []
    for job in _JOBS.values():
        period = job.period()
        if period is not None:
            found.append((job, period.total_seconds()))
    return found


class Scheduler:
    """Sends each periodic job once per period, periods aligned on the Unix epoch (a daily
    job runs once a UTC day). With Redis, a period is claimed with SET NX, so that a
    second scheduler sends nothing more."""

    def __init__(self) -> None:
        self.done: dict[str, int] = {}
        self.identity = uuid.uuid4().hex

    def claim(self, name: str, slot: int, seconds: float) -> bool:
        if _STATE.client is None:
            return True
        key = f"{_STATE.namespace}:schedule:{name}:{slot}"
        return bool(_STATE.client.set(key, self.identity, nx=True,
                                      ex=max(60, int(seconds * 2))))

    def tick(self) -> float:
        """Send what is due; return the seconds until the next job is due."""
        moment = time.time()
        wait = 60.0
        for job, seconds in _periodic():
            slot = int(moment // seconds)
            if self.done.get(job.name) != slot:
                try:
                    if self.claim(job.name, slot, seconds):
                        send(job.name)
                        log.info("job.scheduled", job=job.name, every_seconds=seconds)
                    self.done[job.name] = slot
                except Exception as error:  # noqa: BLE001 - try again at the next tick
                    log.warning("job.schedule_failed", job=job.name,
                                error=f"{type(error).__name__}: {error}"[:300])
                    return 5.0
            wait = min(wait, (slot + 1) * seconds - moment)
        return max(0.2, wait)


def run_scheduler(stop: threading.Event | None = None) -> None:
    """Send each periodic job on its schedule until SIGTERM or SIGINT (or ``stop``)."""
    if stop is None:
        stop = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
    broker()
    scheduler = Scheduler()
    log.info("scheduler.started", jobs={job.name: seconds for job, seconds in _periodic()})
    while not stop.wait(scheduler.tick()):
        pass


class Embedded:
    """The jobs of a process without a broker: a worker thread pool and a scheduler thread."""

    def __init__(self, threads: int) -> None:
        self.stop_event = threading.Event()
        # A job still running at shutdown gets a few seconds; what it leaves undone (its
        # unit rolled back) the periodic sweeps take up after the restart.
        self.worker = threading.Thread(target=_work, args=(threads, None, self.stop_event, 10),
                                       name="borderpass-jobs", daemon=True)
        self.scheduler = threading.Thread(target=run_scheduler, args=(self.stop_event,),
                                          name="borderpass-schedule", daemon=True)

    def start(self) -> Embedded:
        self.worker.start()
        self.scheduler.start()
        return self

    def stop(self) -> None:
        """Stop scheduling; let the running jobs end."""
        self.stop_event.set()
        self.scheduler.join(timeout=5)
        self.worker.join(timeout=30)


def start_embedded(threads: int = 2) -> Embedded:
    """Run the jobs inside this process: a worker and a scheduler thread (no broker set)."""
    return Embedded(threads).start()


def drain(timeout_seconds: float = 60.0) -> None:
    """Run the jobs waiting on the in-memory broker, in this process, until none is left.

    Raises:
        RuntimeError: a broker is configured (its workers run the jobs).
        TimeoutError: jobs were still waiting after ``timeout_seconds``.
    """
    current = broker()
    if not isinstance(current, StubBroker):
        raise RuntimeError("drain runs the in-memory broker's jobs; workers run Redis's")
    if all(current.queues[q].unfinished_tasks == 0 for q in current.queues):
        return
    worker = dramatiq.Worker(current, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + timeout_seconds
        while any(current.queues[q].unfinished_tasks for q in current.queues):
            if time.monotonic() > deadline:
                raise TimeoutError("jobs were still waiting after the time allowed")
            time.sleep(0.01)
    finally:
        worker.stop()
        _forget_worker(current, worker)


def _forget_worker(current: dramatiq.Broker, worker: dramatiq.Worker) -> None:
    # A stopped worker's middleware would start consumers for queues declared later.
    current.middleware[:] = [m for m in current.middleware
                             if getattr(m, "worker", None) is not worker]
