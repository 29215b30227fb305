"""Typed settings, read from the environment with the prefix ``BORDERPASS_``.

Secrets have no insecure defaults. When they are not given, the embedded default
generates them once under ``var/`` (and says so in the log) so that a fresh checkout
runs; a production deployment sets them explicitly.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "reset_settings"]

_SECRET_NAMES = ("pii_key", "blind_index_key", "session_key", "venue_signing_key")


def _default_var_dir() -> Path:
    return Path.cwd() / "var"


class Settings(BaseSettings):
    """Every knob of the platform; the environment overrides each field."""

    model_config = SettingsConfigDict(env_prefix="BORDERPASS_", extra="ignore")

    var_dir: Path = Field(default_factory=_default_var_dir)
    # "production" refuses what only suits a developer's machine (the mailbox sender).
    environment: Literal["development", "production"] = "development"
    database_url: str = ""
    jurisdiction: str = "HK"
    log_level: str = "INFO"
    log_file: Path | None = None
    log_json: bool = True

    pii_key: SecretStr | None = None
    blind_index_key: SecretStr | None = None
    session_key: SecretStr | None = None
    venue_signing_key: SecretStr | None = None

    # Send cookies only over HTTPS (and ask browsers for HSTS); on in production, off for
    # the embedded default served on http://127.0.0.1.
    secure_cookies: bool = False
    session_hours: int = 12

    # The cost of hashing a password or PIN: scrypt's N is 2**secret_hash_cost. Each step
    # up doubles the time and memory of a sign-in (14: about 16 MiB and 40-60 ms on one
    # core). Hashes keep the cost they were made with (kit/signing/_secretbox.py).
    secret_hash_cost: int = Field(default=14, ge=10, le=17)

    registration_minutes: int = 45
    pin_minutes: int = 10
    pin_attempts: int = 5

    # Sign-in throttling, per account and per client address, kept in the database so
    # that every web process sees the same count. Failures are counted over a sliding
    # window; from ``sign_in_delay_after`` failures on, each further attempt must wait
    # (``sign_in_delay_seconds``, times ``sign_in_delay_growth`` for each further failure,
    # at most ``sign_in_delay_max_seconds``); at ``sign_in_lock_after`` the account is
    # locked until an officer lifts the lock. A client address is only ever delayed.
    sign_in_window_seconds: int = Field(default=15 * 60, ge=1)
    sign_in_delay_after: int = Field(default=5, ge=1)
    sign_in_delay_seconds: float = Field(default=1.0, gt=0, le=3600)
    sign_in_delay_growth: float = Field(default=2.0, ge=1, le=10)
    sign_in_delay_max_seconds: float = Field(default=15 * 60, gt=0, le=24 * 3600)
    sign_in_lock_after: int = Field(default=10, ge=1)
    sign_in_address_delay_after: int = Field(default=30, ge=1)
    # How many proxies in front of the web processes append to X-Forwarded-For: the
    # client's address is the one that many entries from the right. 0 (the default)
    # ignores the header and takes the address of the connection.
    trusted_proxies: int = Field(default=0, ge=0, le=10)
    proof_max_bytes: int = 5 * 1024 * 1024
    ingest_max_rows: int = 2_000_000
    # The largest batch a laboratory or the registry may send in one request.
    ingest_max_bytes: int = Field(default=320 * 1024 * 1024, ge=1024)
    # The embedded default puts each SMS and letter in a file under var/mailbox/, which
    # stands in for the resident's phone; production names a real sender.
    outbox_sender: str = "borderpass.kit.outbox:MailboxSender"
    exposure_list_max_age_seconds: int = 60

    # Concurrency of one web process: blocking endpoints run on this many threads, and
    # the database pool holds as many connections (a request holds at most one), so a
    # thread never waits for a connection. Past ``db_pool_timeout`` seconds of waiting a
    # request is answered 503 with Retry-After, never left hanging.
    threads: int = Field(default=20, ge=1, le=1000)
    # Long computations (a batch of test results) run in this many worker processes of
    # each web process, so that the event loop keeps answering; 0 runs them on a thread.
    offload_processes: int = Field(default=1, ge=0, le=64)
    db_pool_size: int | None = Field(default=None, ge=1, le=1000)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=300)
    # How long a request may wait for its turn before it is answered 503 (Retry-After).
    queue_seconds: float = Field(default=30.0, gt=0, le=600)

    key_dir: Path | None = None
    code_prefix: str = "BPHC1:"
    trust_list_max_age_hours: int = 7 * 24
    revocation_list_max_age_hours: int = 24
    revocation_poll_seconds: int = 30
    key_grace_hours: int = 48

    # Background jobs (kit/jobs.py). With a Redis URL, jobs go to Redis and `borderpass
    # worker` processes run them; without one (the embedded default) they run inside the
    # process that sent them: the web process runs a worker and a scheduler thread of its
    # own (``embedded_jobs``; tests turn it off and run jobs when they ask).
    redis_url: str = ""
    jobs_namespace: str = Field(default="borderpass", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    embedded_jobs: bool = True
    embedded_job_threads: int = Field(default=2, ge=1, le=64)
    # A job that raises is tried again after a growing wait (from the minimum, doubling,
    # at most the maximum), this many times, then dead-lettered with its reason.
    jobs_max_retries: int = Field(default=5, ge=0, le=100)
    jobs_min_backoff_seconds: float = Field(default=2.0, gt=0, le=3600)
    jobs_max_backoff_seconds: float = Field(default=600.0, gt=0, le=6 * 24 * 3600)
    jobs_time_limit_seconds: float = Field(default=600.0, gt=0, le=24 * 3600)
    # A worker that has not beaten for this long is dead: its unfinished jobs go back to
    # their queue for another worker. Live workers beat four times in this period.
    jobs_worker_timeout_seconds: float = Field(default=60.0, ge=1, le=3600)
    partners_sync_minutes: int = Field(default=5, ge=1, le=24 * 60)
    # An evidence change touching more people than this re-evaluates them in background
    # jobs (chunks on the ``bulk`` queue) rather than inside the request.
    reevaluate_inline_max: int = Field(default=10_000, ge=0)
    # Where the lists are written for static serving (a CDN or a web server in front): the
    # verifier's file (trust and revocation lists) and the exposure list, rewritten by a
    # job after each change. Default: var/published.
    publish_dir: Path | None = None
    # The scanner's trust material for other issuers' certificates: document signer (and
    # CSCA) certificates of EU DCCs under ``dcc/``, a folder of trusted SMART Health Card
    # issuers under ``shc/`` (docs/formats/dcc.md, shc.md). Default: var/foreign.
    foreign_trust_dir: Path | None = None

    def model_post_init(self, __context: Any) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'borderpass.sqlite3'}"
        if self.key_dir is None:
            self.key_dir = self.var_dir / "keys"
        if self.publish_dir is None:
            self.publish_dir = self.var_dir / "published"
        if self.foreign_trust_dir is None:
            self.foreign_trust_dir = self.var_dir / "foreign"
        if self.log_file is None:
            self.log_file = self.var_dir / "log" / "borderpass.log"
        missing = [name for name in _SECRET_NAMES if getattr(self, name) is None]
        if missing:
            generated = _load_or_generate_secrets(self.var_dir / "secrets.json")
            for name in missing:
                setattr(self, name, SecretStr(generated[name]))
            self._generated_secrets = tuple(missing)
        else:
            self._generated_secrets = ()

    @property
    def generated_secrets(self) -> tuple[str, ...]:
        """Name the secrets that came from ``var/secrets.json`` rather than settings."""
        return self._generated_secrets

    def secret_bytes(self, name: str) -> bytes:
        """Return a 32-byte secret, decoded from its base64 setting."""
        value: SecretStr | None = getattr(self, name)
        if value is None:  # pragma: no cover - post_init fills every secret
            raise RuntimeError(f"secret {name} is not set")
        raw = base64.urlsafe_b64decode(value.get_secret_value() + "==")
        if len(raw) != 32:
            raise ValueError(f"BORDERPASS_{name.upper()} must be 32 bytes in base64")
        return raw

    @property
    def is_production(self) -> bool:
        """Tell whether these are production settings (declared, or served over HTTPS)."""
        return self.environment == "production" or self.secure_cookies

    @property
    def mailbox_dir(self) -> Path:
        """Where the development sender puts each message (``var/mailbox/``)."""
        return self.var_dir / "mailbox"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _load_or_generate_secrets(path: Path) -> dict[str, str]:
    if path.exists():  # generated on an earlier run
        stored: dict[str, str] = json.loads(path.read_text())
        if all(name in stored for name in _SECRET_NAMES):
            return stored
    else:
        stored = {}
    for name in _SECRET_NAMES:
        stored.setdefault(name, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written aside and put in place whole: a process starting meanwhile never reads half
    # a file, and of several making the first file at once, the first to link it wins and
    # every one reads that back, so all of them hold the same secrets.
    aside = path.with_suffix(f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(stored, handle, indent=2)
    if path.exists():  # an older file lacking a secret, completed
        aside.replace(path)
        return stored
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
    written: dict[str, str] = json.loads(path.read_text())
    return written


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
