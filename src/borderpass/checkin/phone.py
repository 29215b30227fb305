"""The phone: a client that keeps check-ins on the device only.

The store is one SQLite file. Nothing in it leaves the device except by ``upload``,
which the resident asks for with explicit consent. Matching the published exposure list
happens here and its result is shown, never sent.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from borderpass.checkin import exposure
from borderpass.checkin.qr import InvalidVenueCode, ParsedVenue, parse_venue_code, taxi_venue
from borderpass.kit.clock import end_of_day, hk_date
from borderpass.kit.errors import InvalidInput, NotFound
from borderpass.kit.i18n import _, translate
from borderpass.kit.signing import DetachedSigner

__all__ = [
    "AUTO_LEAVE",
    "KEEP",
    "CheckIn",
    "ExposureWarning",
    "Phone",
    "UploadRefused",
    "decode_photo",
]

AUTO_LEAVE = timedelta(hours=4)
KEEP = timedelta(days=31)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS trust (kid TEXT PRIMARY KEY, public BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    format TEXT NOT NULL, venue_id TEXT NOT NULL, name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL, type TEXT NOT NULL, secret BLOB NOT NULL,
    started_at INTEGER NOT NULL, ended_at INTEGER, auto_leave_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_checkins_started ON checkins (started_at);
CREATE TABLE IF NOT EXISTS bookmarks (
    venue_id TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL,
    code TEXT NOT NULL, added_at INTEGER NOT NULL
);
"""


def _ts(instant: datetime) -> int:
    return int(instant.timestamp())


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_photo(image: bytes | Path) -> list[str]:
    """Return the texts of the QR codes found in a photo (PNG, JPEG, …)."""
    import zxingcpp
    from PIL import Image

    content = image.read_bytes() if isinstance(image, Path) else image
    try:
        picture = Image.open(io.BytesIO(content))
        picture.load()
    except OSError:
        raise InvalidVenueCode(field="photo", reason="the photo cannot be read") from None
    found = zxingcpp.read_barcodes(picture.convert("L"))
    return [code.text for code in found if code.valid and code.text]


@dataclass(frozen=True)
class CheckIn:
    """One check-in on the phone: ``ended_at`` is when it ended, or, while it is active, the
    present moment; ``leaves_at`` is when it ends by itself unless the resident leaves."""

    id: int
    format: str
    venue_id: str
    name_zh: str
    name_en: str
    type: str
    started_at: datetime
    ended_at: datetime
    active: bool
    leaves_at: datetime


@dataclass(frozen=True)
class ExposureWarning:
    """A local exposure warning: what happened, and what to do by when."""

    kind: Literal["direct", "indirect"]
    checkin: CheckIn
    overlap_from: datetime
    overlap_to: datetime
    test_by: datetime
    watch_until: datetime

    def message(self, locale: str = "en") -> str:
        """Say plainly what happened and what to do, in ``locale``."""
        name = self.checkin.name_en if locale == "en" else self.checkin.name_zh
        params = {"place": name, "day": hk_date(self.overlap_from).isoformat(),
                  "test_by": hk_date(self.test_by).isoformat(),
                  "watch_until": hk_date(self.watch_until).isoformat()}
        if self.kind == "direct":
            text = _("You were at {place} on {day} at the same time as a person with COVID-19. "
                     "Get a PCR test by {test_by} and watch for symptoms until {watch_until}.")
        else:
            text = _("You rode in {place} on {day}, within a day after a person with COVID-19. "
                     "Take a rapid test by {test_by} and watch for symptoms until "
                     "{watch_until}.")
        return translate(text, locale, **params)


class UploadRefused(InvalidInput):
    code = "upload_refused"
    message = _("The upload did not go through: {reason}.")


class Phone:
    """A phone's check-in store.

    Args:
        path: the SQLite file of this phone's records (created when missing).
        trust: the platform's venue-signing public keys by key id, remembered.
        now: when the phone is first used (the start of its covered days).
    """

    def __init__(self, path: Path | str, *, trust: dict[str, bytes] | None = None,
                 now: datetime) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The phone's record and its device seed are for its owner only (0600), and so
        # are the journal files SQLite makes beside it with the same mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        if self.path.stat().st_mode & 0o077:
            self.path.chmod(0o600)
        with self._db() as db:
            db.executescript(_SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('device_seed', ?)",
                       (DetachedSigner.generate().seed,))
            db.execute("INSERT OR IGNORE INTO meta VALUES ('in_use_since', ?)", (_ts(now),))
            for kid, public in (trust or {}).items():
                db.execute("INSERT OR REPLACE INTO trust VALUES (?, ?)", (kid, public))

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path)
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def _meta(self, key: str) -> Any:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _trust(self) -> dict[str, bytes]:
        with self._db() as db:
            return {kid: bytes(public) for kid, public in db.execute("SELECT * FROM trust")}

    def _device_key(self) -> DetachedSigner:
        return DetachedSigner(bytes(self._meta("device_seed")))

    @property
    def device_key(self) -> str:
        """Return the phone's public device key (base64url), which signs its uploads."""
        return _b64url(self._device_key().public)

    @property
    def in_use_since(self) -> datetime:
        return _dt(int(self._meta("in_use_since")))

    # -- checking in and out -----------------------------------------------------------

    def _close_active(self, db: sqlite3.Connection, now: datetime) -> None:
        db.execute(
            "UPDATE checkins SET ended_at = MIN(auto_leave_at, ?) WHERE ended_at IS NULL",
            (_ts(now),),
        )

    def _add(self, venue: ParsedVenue, now: datetime, leave_after: timedelta) -> CheckIn:
        if not timedelta(minutes=1) <= leave_after <= timedelta(hours=24):
            raise InvalidInput(_("Leave after 1 minute to 24 hours."), field="leave_after")
        self.purge(now=now)
        with self._db() as db:
            self._close_active(db, now)
            cursor = db.execute(
                "INSERT INTO checkins (format, venue_id, name_zh, name_en, type, secret, "
                "started_at, auto_leave_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (venue.format, venue.venue_id, venue.name_zh, venue.name_en, venue.type,
                 venue.secret, _ts(now), _ts(now + leave_after)),
            )
            new_id = int(cursor.lastrowid or 0)
        return self._get(new_id, now)

    def check_in(self, code: str, *, now: datetime,
                 leave_after: timedelta = AUTO_LEAVE) -> CheckIn:
        """Check in with a scanned QR text; the previous check-in, if open, ends now."""
        return self._add(parse_venue_code(code, self._trust()), now, leave_after)

    def check_in_photo(self, photo: bytes | Path, *, now: datetime,
                       leave_after: timedelta = AUTO_LEAVE) -> CheckIn:
        """Check in from a photo of a venue's poster."""
        texts = decode_photo(photo)
        if not texts:
            raise InvalidVenueCode(field="photo", reason="no QR code was found in the photo")
        error: InvalidVenueCode | None = None
        for text in texts:
            try:
                return self.check_in(text, now=now, leave_after=leave_after)
            except InvalidVenueCode as problem:
                error = problem
        assert error is not None  # noqa: S101 - texts is not empty
        raise error

    def check_in_taxi(self, plate: str, *, now: datetime,
                      leave_after: timedelta = timedelta(hours=1)) -> CheckIn:
        """Check in to a taxi by its registration plate, typed in."""
        return self._add(taxi_venue(plate), now, leave_after)

    def check_out(self, *, now: datetime) -> CheckIn | None:
        """End the active check-in now; return it, or None when none is active."""
        current = self.active(now=now)
        if current is None:
            return None
        with self._db() as db:
            self._close_active(db, now)
        return self._get(current.id, now)

    def _row(self, row: tuple[Any, ...], now: datetime) -> CheckIn:
        (id_, fmt, venue_id, name_zh, name_en, type_, _secret, started, ended, auto) = row
        end = ended if ended is not None else min(auto, max(_ts(now), started))
        return CheckIn(id_, fmt, venue_id, name_zh, name_en, type_, _dt(started), _dt(end),
                       active=ended is None and _ts(now) < auto, leaves_at=_dt(auto))

    def _get(self, checkin_id: int, now: datetime) -> CheckIn:
        with self._db() as db:
            row = db.execute("SELECT * FROM checkins WHERE id = ?", (checkin_id,)).fetchone()
        return self._row(row, now)

    def active(self, *, now: datetime) -> CheckIn | None:
        """Return the check-in in progress, if any (one at most)."""
        found = [c for c in self.records(now=now) if c.active]
        return found[-1] if found else None

    def records(self, *, now: datetime) -> list[CheckIn]:
        """Return the check-ins kept on the phone, oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM checkins ORDER BY started_at, id").fetchall()
        return [self._row(row, now) for row in rows]

    def purge(self, *, now: datetime) -> int:
        """Delete every check-in that ended more than 31 days ago; return how many."""
        limit = _ts(now - KEEP)
        with self._db() as db:
            cursor = db.execute(
                "DELETE FROM checkins WHERE COALESCE(ended_at, auto_leave_at) < ?", (limit,)
            )
            return int(cursor.rowcount)

    # -- bookmarks ------------------------------------------------------------------

    def bookmark(self, code: str, *, now: datetime) -> ParsedVenue:
        """Keep a venue's code to check in there again without scanning."""
        venue = parse_venue_code(code, self._trust())
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO bookmarks VALUES (?, ?, ?, ?, ?)",
                       (venue.venue_id, venue.name_zh, venue.name_en, code.strip(), _ts(now)))
        return venue

    def bookmarks(self) -> list[dict[str, str]]:
        """Return the bookmarked venues."""
        with self._db() as db:
            rows = db.execute(
                "SELECT venue_id, name_zh, name_en FROM bookmarks ORDER BY added_at"
            ).fetchall()
        return [{"venue_id": v, "name_zh": zh, "name_en": en} for v, zh, en in rows]

    def check_in_bookmark(self, venue_id: str, *, now: datetime,
                          leave_after: timedelta = AUTO_LEAVE) -> CheckIn:
        """Check in at a bookmarked venue."""
        with self._db() as db:
            row = db.execute("SELECT code FROM bookmarks WHERE venue_id = ?",
                             (venue_id,)).fetchone()
        if row is None:
            raise NotFound(_("There is no such bookmark."), field="venue_id")
        return self.check_in(str(row[0]), now=now, leave_after=leave_after)

    def remove_bookmark(self, venue_id: str) -> None:
        """Forget a bookmark."""
        with self._db() as db:
            db.execute("DELETE FROM bookmarks WHERE venue_id = ?", (venue_id,))

    # -- export, matching, upload -----------------------------------------------------

    def export(self, *, now: datetime) -> dict[str, Any]:
        """Return the phone's records as JSON-ready data (for the resident's own copy)."""
        def plain(checkin: CheckIn) -> dict[str, Any]:
            data = asdict(checkin)
            data["started_at"] = checkin.started_at.isoformat()
            data["ended_at"] = checkin.ended_at.isoformat()
            data["leaves_at"] = checkin.leaves_at.isoformat()
            return data

        return {"in_use_since": self.in_use_since.isoformat(),
                "checkins": [plain(c) for c in self.records(now=now)],
                "bookmarks": self.bookmarks()}

    def _visits(self, now: datetime) -> tuple[list[exposure.Visit], dict[int, CheckIn]]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM checkins").fetchall()
        visits, by_id = [], {}
        for row in rows:
            checkin = self._row(row, now)
            by_id[checkin.id] = checkin
            visits.append(exposure.Visit(checkin.id, bytes(row[6]), checkin.started_at,
                                         checkin.ended_at))
        return visits, by_id

    def warnings(self, published: str | exposure.PublishedList, *,
                 now: datetime) -> list[ExposureWarning]:
        """Match the phone's check-ins against a published list, here on the phone."""
        if isinstance(published, str):
            published = exposure.parse_list(published, self._trust())
        visits, by_id = self._visits(now)
        found = []
        for hit in exposure.match(visits, published, now=now):
            after = max(hit.overlap_end, now)
            days = 2 if hit.kind == "direct" else 3
            found.append(ExposureWarning(
                hit.kind, by_id[hit.ref], hit.overlap_start, hit.overlap_end,
                test_by=end_of_day(after + timedelta(days=days)),
                watch_until=end_of_day(hit.overlap_end + timedelta(days=14))))
        found.sort(key=lambda w: (w.kind != "direct", w.overlap_from))
        return found

    def upload_bundle(self, *, now: datetime) -> dict[str, Any]:
        """Return the signed bundle of the last 31 days of records (format BPU1)."""
        records = [
            {"kind": {"signed": "venue"}.get(c.format, c.format), "place_id": c.venue_id,
             "start": c.started_at.isoformat(), "end": c.ended_at.isoformat()}
            for c in self.records(now=now)
            if c.ended_at >= now - KEEP and c.ended_at > c.started_at
        ]
        bundle: dict[str, Any] = {
            "format": "BPU1", "device_key": self.device_key, "created_at": now.isoformat(),
            "in_use_since": self.in_use_since.isoformat(), "records": records,
        }
        message = json.dumps(bundle, ensure_ascii=False, sort_keys=True,
                             separators=(",", ":")).encode("utf-8")
        bundle["signature"] = _b64url(self._device_key().sign(message))
        return bundle

    def upload(self, server: str, token: str, *, consent: bool, now: datetime) -> dict[str, Any]:
        """Send the signed bundle to the resident's account, only with ``consent``."""
        if not consent:
            raise InvalidInput(_("Records are uploaded only with your explicit consent."),
                               field="consent")
        if not server.startswith(("http://", "https://")):
            raise InvalidInput(_("The server address must start with http:// or https://."),
                               field="server")
        body = json.dumps({"consent": True, "bundle": self.upload_bundle(now=now)}).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            server.rstrip("/") + "/api/checkin/uploads", data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                reason = str(json.loads(error.read())["error"]["message"])
            except (ValueError, KeyError, TypeError):
                reason = f"HTTP {error.code}"
            raise UploadRefused(reason=reason[:200].rstrip(".")) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise UploadRefused(reason=str(getattr(error, "reason", error))[:200]) from None
        return answer
