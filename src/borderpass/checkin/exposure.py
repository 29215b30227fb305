"""The published exposure list (``docs/formats/exposure-list.md``) and local matching.

The server turns each case (a place and a period) into one entry per hour: a token
that only holders of the place's secret can compute, and the part of the period that
falls in that hour. A phone computes the tokens of its own check-ins and looks them up;
the list names no venue, and the phone tells no one what it found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple

from borderpass.kit.decoding import DecodeError, b64url_decode, b64url_encode
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _
from borderpass.kit.signing import DetachedSigner, SigningError, exposure_token, verify_detached

__all__ = [
    "DIRECT_MIN_OVERLAP",
    "INDIRECT_WINDOW",
    "LIST_FORMAT",
    "MATCH_WINDOW",
    "Entry",
    "InvalidExposureList",
    "Match",
    "PublishedList",
    "Visit",
    "entries_for_case",
    "match",
    "parse_list",
    "render_list",
]

LIST_FORMAT = "BPX1"
HOUR = 3600
DIRECT_MIN_OVERLAP = 60  # seconds
MATCH_WINDOW = timedelta(days=14)
INDIRECT_WINDOW = timedelta(days=1)
_TOKEN_BYTES = 16  # the length of an exposure_token (docs/formats/exposure-list.md)
# The lines of the text, each in its one spelling: numbers in decimal without leading
# zeros, up to the last second of 9999 (what a date can hold).
_SECONDS = r"(0|[1-9][0-9]{0,11})"
_HEADER = re.compile(rf"{LIST_FORMAT} {_SECONDS} (0|[1-9][0-9]{{0,8}})")
_ENTRY = re.compile(rf"([0-9a-f]{{{2 * _TOKEN_BYTES}}}) {_SECONDS} {_SECONDS} ([DI])")
_SIGNATURE_LINE = re.compile(r"([0-9a-f]{8}) ([A-Za-z0-9_-]{86})")
_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z

Kind = Literal["D", "I"]


class InvalidExposureList(InvalidInput):
    code = "invalid_exposure_list"
    message = _("The exposure list cannot be used: {reason}.")


class Entry(NamedTuple):
    """One published entry: a place's token for one hour, and the listed part of that hour."""

    token: bytes
    start: int  # seconds since 1970-01-01T00:00Z
    end: int
    kind: Kind  # D: the case was there; I: the day after a case in a taxi


def _seconds(instant: datetime) -> int:
    return int(instant.timestamp())


def _hour_slices(start: int, end: int) -> Iterable[tuple[int, int, int]]:
    """Yield (hour, slice start, slice end) for each hour that [start, end) touches."""
    for hour in range(start // HOUR, (end - 1) // HOUR + 1):
        yield hour, max(start, hour * HOUR), min(end, (hour + 1) * HOUR)


def entries_for_case(
    secrets: Sequence[bytes], start: datetime, end: datetime, *, taxi: bool = False
) -> list[Entry]:
    """Return the entries of one case for each of the place's secrets.

    A taxi also gets indirect entries for the day after the case: whoever rode it then
    is warned too.
    """
    first, last = _seconds(start), _seconds(end)
    entries: list[Entry] = []
    if last <= first:
        return entries
    for secret in secrets:
        for hour, lo, hi in _hour_slices(first, last):
            entries.append(Entry(exposure_token(secret, hour), lo, hi, "D"))
        if taxi:
            after = last + int(INDIRECT_WINDOW.total_seconds())
            for hour, lo, hi in _hour_slices(last, after):
                entries.append(Entry(exposure_token(secret, hour), lo, hi, "I"))
    return entries


def render_list(entries: Iterable[Entry], generated_at: datetime, signer: DetachedSigner) -> str:
    """Return the signed text of an exposure list; entries are sorted, so order tells nothing."""
    ordered = sorted(set(entries))
    lines = [f"{LIST_FORMAT} {_seconds(generated_at)} {len(ordered)}"]
    lines.extend(f"{e.token.hex()} {e.start} {e.end} {e.kind}" for e in ordered)
    body = "\n".join(lines) + "\n"
    signature = signer.sign(body.encode("ascii"))
    return f"{body}SIG {signer.key_id} {b64url_encode(signature)}\n"


@dataclass
class PublishedList:
    """A parsed, verified exposure list, indexed by token."""

    generated_at: datetime
    count: int
    index: dict[bytes, list[tuple[int, int, str]]] = field(default_factory=dict)


def _bad(reason: str) -> InvalidExposureList:
    return InvalidExposureList(field="list", reason=reason)


def parse_list(text: str, trust: dict[str, bytes]) -> PublishedList:
    """Verify and index an exposure list.

    The text is read as the format writes it and in no other spelling: ASCII, every line
    ending in one LF, the signature in unpadded base64url with no spare bits set.

    Raises:
        InvalidExposureList: malformed, or not signed by a trusted key.
    """
    if not isinstance(text, str) or not text.isascii():
        raise _bad("it is not ASCII text")
    if not text.endswith("\n"):
        raise _bad("the last line does not end with LF")
    body, sep, trailer = text[:-1].rpartition("\nSIG ")
    if not sep:
        raise _bad("the signature line is missing")
    signature_line = _SIGNATURE_LINE.fullmatch(trailer)
    if signature_line is None:
        raise _bad("the signature line is malformed")
    kid = signature_line[1]
    try:
        signature = b64url_decode(signature_line[2], size=64)
    except DecodeError:
        raise _bad("the signature line is malformed") from None
    public = trust.get(kid)
    if public is None:
        raise _bad("it is signed by an unknown key")
    try:
        verify_detached(public, (body + "\n").encode("ascii"), signature)
    except SigningError:
        raise _bad("the signature does not verify") from None
    lines = body.split("\n")
    header = _HEADER.fullmatch(lines[0])
    if header is None or int(header[1]) > _LAST_SECOND:
        raise _bad("the header is not BPX1 <generated> <count>")
    published = PublishedList(datetime.fromtimestamp(int(header[1]), UTC), int(header[2]))
    if published.count != len(lines) - 1:
        raise _bad("the entry count does not match")
    index = published.index
    for line in lines[1:]:
        entry = _ENTRY.fullmatch(line)
        if entry is None:
            raise _bad("an entry is malformed")
        start, end = int(entry[2]), int(entry[3])
        if not start < end <= _LAST_SECOND:
            raise _bad("an entry's period is empty or past the year 9999")
        index.setdefault(bytes.fromhex(entry[1]), []).append((start, end, entry[4]))
    return published


@dataclass(frozen=True)
class Visit:
    """One of the phone's own check-ins, as matching needs it."""

    ref: int
    secret: bytes
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Match:
    """A check-in that meets a listed case: direct (same place and time) or indirect."""

    ref: int
    kind: Literal["direct", "indirect"]
    overlap_start: datetime
    overlap_end: datetime


def match(visits: Iterable[Visit], published: PublishedList, *, now: datetime) -> list[Match]:
    """Return the visits of the last 14 days that meet the list, at most one per visit.

    Direct: at least 60 seconds of overlap, in all, with cases at the place. Indirect:
    any overlap with the day after a case in a taxi. A direct match wins.
    """
    oldest = _seconds(now - MATCH_WINDOW)
    index = published.index
    found: list[Match] = []
    for visit in visits:
        start, end = _seconds(visit.start), _seconds(visit.end)
        if end < oldest or end <= start:
            continue
        direct, d_lo, d_hi = 0, end, start
        i_lo, i_hi = end, start
        for hour in range(start // HOUR, (end - 1) // HOUR + 1):
            hits = index.get(exposure_token(visit.secret, hour))
            if not hits:
                continue
            for lo, hi, kind in hits:
                overlap_lo, overlap_hi = max(start, lo), min(end, hi)
                if overlap_hi <= overlap_lo:
                    continue
                if kind == "D":
                    direct += overlap_hi - overlap_lo
                    d_lo, d_hi = min(d_lo, overlap_lo), max(d_hi, overlap_hi)
                else:
                    i_lo, i_hi = min(i_lo, overlap_lo), max(i_hi, overlap_hi)
        if direct >= DIRECT_MIN_OVERLAP:
            found.append(Match(visit.ref, "direct", _instant(d_lo), _instant(d_hi)))
        elif i_hi > i_lo:
            found.append(Match(visit.ref, "indirect", _instant(i_lo), _instant(i_hi)))
    return found


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
