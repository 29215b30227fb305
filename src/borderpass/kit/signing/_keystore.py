"""Signing keys on disk, named by key id, rotatable.

A key store is a directory (``var/keys`` by default) holding one PKCS#8 PEM file per key
(mode 0600) and ``keys.json``, which records each key's purpose and validity. A purpose
(``code`` for health codes, ``anchor`` for the jurisdiction's lists) has one current key;
rotating it retires the old key, which stays published until ``retired_at + grace`` so
that what it signed stays verifiable until it expires.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from borderpass.kit.signing._cose import SigningKey

__all__ = ["KeyRecord", "KeyStore"]


@dataclass(frozen=True)
class KeyRecord:
    """What the store knows about a key, besides the key."""

    kid: bytes
    purpose: str
    created_at: datetime
    retired_at: datetime | None
    valid_until: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "kid": self.kid.hex(),
            "purpose": self.purpose,
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> KeyRecord:
        def instant(name: str) -> datetime | None:
            value = data.get(name)
            return datetime.fromisoformat(value) if value else None

        created = instant("created_at")
        if created is None:
            raise ValueError("key record without created_at")
        return cls(bytes.fromhex(str(data["kid"])), str(data["purpose"]), created,
                   instant("retired_at"), instant("valid_until"))


_THREADS = threading.Lock()


class KeyStore:
    """The keys under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[bytes, SigningKey] = {}
        self._read: tuple[tuple[int, int, int, int], list[KeyRecord]] | None = None

    @property
    def _index(self) -> Path:
        return self.directory / "keys.json"

    def records(self) -> list[KeyRecord]:
        """Return every key record, oldest first.

        The index is read again whenever its file is not the one read last (each change
        replaces it with a new file), so that a key rotated by another process counts at
        once; a code is issued or matched with the current key on every page view, and a
        ``stat`` costs a tenth of reading and parsing the file.
        """
        try:
            found = os.stat(self._index)
        except FileNotFoundError:
            return []
        seen = (found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
        read = self._read
        if read is not None and read[0] == seen:
            return list(read[1])
        stored = json.loads(self._index.read_text())
        records = [KeyRecord.from_json(item) for item in stored]
        self._read = (seen, records)
        return list(records)

    def _save(self, records: list[KeyRecord]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self._index.with_suffix(f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps([r.as_json() for r in records], indent=2))
        temporary.replace(self._index)

    def _write_key(self, key: SigningKey) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{key.kid.hex()}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.to_pem())

    def key(self, kid: bytes) -> SigningKey:
        """Return the private key of ``kid``."""
        cached = self._cache.get(kid)
        if cached is None:
            cached = SigningKey.from_pem((self.directory / f"{kid.hex()}.pem").read_bytes())
            self._cache[kid] = cached
        return cached

    def current(self, purpose: str) -> KeyRecord | None:
        """Return the record of the key that signs for ``purpose`` now, if any."""
        live = [r for r in self.records() if r.purpose == purpose and r.retired_at is None]
        return live[-1] if live else None

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the store for a change: one thread, one process at a time."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _THREADS:
            fd = os.open(self.directory / "keys.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def signing_key(self, purpose: str, *, now: datetime) -> tuple[SigningKey, bool]:
        """Return the current key of ``purpose``, generating the first one if there is none.

        Two requests (or processes) asking at once for a first key get the same one.

        Returns:
            the key, and whether it was generated just now.
        """
        record = self.current(purpose)
        if record is not None:
            return self.key(record.kid), False
        with self._exclusive():
            record = self.current(purpose)
            if record is not None:
                return self.key(record.kid), False
            return self._rotate(purpose, now=now, grace=timedelta(0)), True

    def rotate(self, purpose: str, *, now: datetime, grace: timedelta) -> SigningKey:
        """Make a new key current for ``purpose``; the old one is published for ``grace`` more."""
        with self._exclusive():
            return self._rotate(purpose, now=now, grace=grace)

    def _rotate(self, purpose: str, *, now: datetime, grace: timedelta) -> SigningKey:
        key = SigningKey.generate()
        self._write_key(key)
        records = [
            KeyRecord(r.kid, r.purpose, r.created_at, now, now + grace)
            if r.purpose == purpose and r.retired_at is None else r
            for r in self.records()
        ]
        records.append(KeyRecord(key.kid, purpose, now, None, None))
        self._save(records)
        self._cache[key.kid] = key
        return key

    def published(self, purpose: str, *, now: datetime) -> list[KeyRecord]:
        """Return the keys of ``purpose`` a verifier must still trust at ``now``."""
        return [
            r for r in self.records()
            if r.purpose == purpose and (r.valid_until is None or r.valid_until > now)
        ]
