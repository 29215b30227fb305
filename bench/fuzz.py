"""Fuzz every decoder of outside input: ``python -m bench.fuzz [--per-decoder N] [--only NAME]``.

Each decoder is fed valid objects and seeded random mutations of them, at every layer of
its format: bit flips, truncation, bytes or characters inserted and appended, odd Unicode
(``²``, a lone surrogate, NUL, a right-to-left mark), JSON nested 5,000 deep, numbers of
5,000 digits, ``1e400`` and ``NaN``, CBOR in non-minimal or indefinite form, headers
added, base64 with spare bits set, and objects signed anew with a trusted key (with
garbage inside) or with another key under a trusted key id. For every input one of:

- refused with the decoder's own error;
- accepted, which a signed format allows only for an unchanged original (up to the one
  line end a scanner may add), or for what the harness itself signed anew with a key
  the decoder trusts; an unsigned format (the legacy venue code, evidence batches, rule
  sets, PEM files) may accept a changed input;
- anything else: an escape (another exception), or a signed object accepted in a form
  it was not signed in (a forgery, or a second encoding of one object).

It prints one line per decoder: inputs, refused with its own error, accepted (and of
what kind), other encodings and forgeries (must be 0) and escapes (must be 0), and exits
1 if any decoder has either. ``tests/fuzz`` runs the same targets on a few thousand
inputs each.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import tempfile
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import cbor2

# The harness signs, encrypts and encodes below the recipes, as an attacker's tools
# would: the private primitives are the quickest way to make well-formed odd objects.
from borderpass.kit.signing._base45 import b45decode, b45encode
from borderpass.kit.signing._cose import (
    SigningKey,
    cbor_encode,
    sign1,
)
from borderpass.kit.signing._encrypt import encrypt_to

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DEFAULT_PER_DECODER = 200_000

# -- outcomes ------------------------------------------------------------------------

ORIGINAL, REMADE, UNSIGNED, BAD = "original", "remade", "unsigned", "bad"


class Refused(Exception):
    """What a decoder that answers with a verdict, not an exception, is counted as."""


@dataclass
class Outcome:
    """What one decoder did with its inputs."""

    name: str
    inputs: int = 0
    refused: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    escapes: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    slowest: float = 0.0
    slow: int = 0
    """Inputs that took longer than the target's ``time_limit``, if it has one."""

    @property
    def bad(self) -> int:
        return self.accepted[BAD]

    @property
    def escaped(self) -> int:
        return sum(self.escapes.values())

    @property
    def ok(self) -> bool:
        return self.bad == 0 and self.escaped == 0

    def _timing(self) -> str:
        if not self.slowest:
            return ""
        return (f"  slowest {self.slowest * 1000:,.1f} ms, the quickest of up to 3 runs "
                f"({self.slow:,} over the limit)")

    def line(self) -> str:
        accepted = sum(self.accepted.values())
        kinds = ", ".join(f"{self.accepted[kind]:,} {label}" for kind, label in (
            (ORIGINAL, "unchanged originals"), (REMADE, "made anew with a trusted key"),
            (UNSIGNED, "changed but unsigned")) if self.accepted[kind])
        escapes = ", ".join(f"{name} {count:,}" for name, count in self.escapes.most_common())
        return (f"fuzz {self.name:<15} inputs {self.inputs:>9,}  refused with its own error "
                f"{self.refused:>9,}  accepted {accepted:>7,}"
                f"{f' ({kinds})' if kinds else ''}  other encodings or forgeries {self.bad:,}"
                f"  escapes {self.escaped:,}{f' ({escapes})' if escapes else ''}"
                f"{self._timing()}"
                f"  {self.seconds:,.1f} s")


@dataclass
class Case:
    """One input and how it was made: ``mutated`` (may hold an original), or ``remade``."""

    value: Any
    kind: str = "mutated"


class Target:
    """A decoder, the valid objects it is fed, and how to mutate them."""

    name: str = ""
    own: tuple[type[BaseException], ...] = ()
    signed: bool = True
    time_limit: float | None = None
    """Seconds no one input may take (counted in ``Outcome.slow``), if the decoder has one."""

    def case(self, rng: random.Random) -> Case:
        raise NotImplementedError

    def decode(self, value: Any) -> Any:
        raise NotImplementedError

    def original(self, value: Any, result: Any) -> bool:
        """Tell whether an accepted input is an unchanged original."""
        raise NotImplementedError

    def classify(self, case: Case, result: Any) -> str:
        if self.original(case.value, result):
            return ORIGINAL
        if case.kind == "remade":
            return REMADE
        return BAD if self.signed else UNSIGNED


def run(target: Target, count: int, seed: int = 0) -> Outcome:
    """Feed ``count`` inputs to one decoder and count what it did."""
    rng = random.Random(f"{target.name}:{seed}")
    outcome = Outcome(target.name)
    started = time.perf_counter()
    timed = target.time_limit is not None
    for _ in range(count):
        case = target.case(rng)
        outcome.inputs += 1
        begun = time.perf_counter() if timed else 0.0
        try:
            try:
                result = target.decode(case.value)
            finally:
                if timed:
                    _timed(target, case, time.perf_counter() - begun, outcome)
        except target.own:
            outcome.refused += 1
            continue
        except Exception as error:  # noqa: BLE001 - counting what escapes is the point
            name = type(error).__name__
            outcome.escapes[name] += 1
            if len(outcome.examples) < 5:
                outcome.examples.append(f"{name}: {str(error)[:100]} <- {_show(case.value)}")
            continue
        kind = target.classify(case, result)
        outcome.accepted[kind] += 1
        if kind == BAD and len(outcome.examples) < 5:
            outcome.examples.append(f"accepted changed: {_show(case.value)}")
    outcome.seconds = time.perf_counter() - started
    return outcome


def _timed(target: Target, case: Case, took: float, outcome: Outcome) -> None:
    """Count an input over the time limit, if it is over it each of three times.

    A machine shared with other work pauses a process now and then: the input is slow
    only if it is slow again, so it is run twice more and the quickest run counts.
    """
    limit = target.time_limit or 0.0
    for _ in range(2):
        if took <= limit:
            break
        begun = time.perf_counter()
        try:
            target.decode(case.value)
        except Exception:  # noqa: BLE001, S110 - only its time is wanted here
            pass
        took = min(took, time.perf_counter() - begun)
    outcome.slowest = max(outcome.slowest, took)
    if took > limit:
        outcome.slow += 1
        if len(outcome.examples) < 5:
            outcome.examples.append(f"slow ({took * 1000:,.0f} ms): {_show(case.value)}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else f"{text[:100]} ... {text[-40:]} ({len(text):,} chars)"


# -- mutations ----------------------------------------------------------------------

ODD_CHARACTERS = ("²", "٣", "０", "\x00", "\ud800", "é", "\u202e", "\ufeff", "\U0001f600",
                  "\n", "\r", "\r\n", " ", "\t", "=", "==", ".", "+", "/", "-", "_", ":", "%",
                  "\\", '"', "{", "[", "\x7f", "\x85")
ODD_BYTES = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\x9f", b"\xbf", b"\x5f", b"\x7f\xff",
             b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff", b"\xd8\x1c", b"\xc1", b"\xf7",
             b"\xfb\x7f\xf0\x00\x00\x00\x00\x00\x00", b"\x1b\xff\xff\xff\xff\xff\xff\xff\xff")
# Raw JSON texts that put a value where another was, including what json.dumps cannot.
NASTY_JSON = (
    "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000, "[" * 40 + "]" * 40,
    "1" * 5000, "-" + "9" * 40, str(2**63), str(2**64), "1e400", "-1e400", "1e-400",
    "NaN", "Infinity", "-Infinity", "1.5", "0", "-1", "-0", "1.0", "true", "false", "null",
    '""', '"²"', '"٣"', '"\\ud800"', '"\\u0000"', '"x\\u0000y"', '"' + "x" * 200_000 + '"',
    '"9999-12-31T23:59:59-23:59"', '"0001-01-01T00:00:00+23:59"', '"2026-02-30T00:00:00Z"',
    '"1e400"', '{"a":1,"a":2}', "[]", "{}", '[""]', '{"":null}', '"\\u202e"', '"=="',
)
NASTY_CBOR: tuple[Any, ...] = (
    2**64 - 1, 2**64, -(2**64) - 1, 2**70, float("inf"), float("nan"), -0.0, 1.5, b"", b"\x00" * 40,
    "", "²", "\u202e", None, True, False, [], {}, [[[[[]]]]], {1: 2}, {"v": 1},
    cbor2.CBORTag(1, 2**70), cbor2.CBORTag(0, "not a date"), cbor2.CBORTag(2, b"\xff" * 40),
    cbor2.CBORTag(18, []), cbor2.CBORTag(55799, 1), cbor2.CBORSimpleValue(99),
)


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """Return ``data`` with one to three random changes."""
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        op = rng.randrange(10)
        where = rng.randrange(len(out) + 1)
        if op == 0 and out:  # flip a bit
            spot = rng.randrange(len(out))
            out[spot] ^= 1 << rng.randrange(8)
        elif op == 1 and out:  # any byte
            out[rng.randrange(len(out))] = rng.randrange(256)
        elif op == 2:
            out[where:where] = rng.randbytes(rng.randint(1, 8))
        elif op == 3 and out:  # cut a slice out
            end = min(len(out), where + rng.randint(1, 16))
            del out[where:end]
        elif op == 4:
            del out[where:]
        elif op == 5:
            out += rng.choice((rng.randbytes(rng.randint(1, 16)), b"\x00", b"\xff", b"\x00" * 8))
        elif op == 6 and out:  # repeat a slice
            end = min(len(out), where + rng.randint(1, 32))
            out[where:where] = out[where:end]
        elif op == 7:
            out[where:where] = rng.choice(ODD_BYTES)
        elif op == 8 and len(out) > 1:  # swap neighbours
            spot = rng.randrange(len(out) - 1)
            out[spot], out[spot + 1] = out[spot + 1], out[spot]
        else:  # a small change to one byte
            if out:
                spot = rng.randrange(len(out))
                out[spot] = (out[spot] + rng.choice((1, -1, 2, -2, 0x80))) % 256
    return bytes(out)


def mutate_text(rng: random.Random, text: str, alphabet: str) -> str:
    """Return ``text`` with one to three random changes, mostly within ``alphabet``."""
    out = list(text)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        op = rng.randrange(9)
        where = rng.randrange(len(out) + 1)
        if op in (0, 1) and out:  # another character of the alphabet
            out[rng.randrange(len(out))] = rng.choice(alphabet)
        elif op == 2 and out:
            out[rng.randrange(len(out))] = rng.choice(ODD_CHARACTERS)
        elif op == 3:
            out[where:where] = list(rng.choice((rng.choice(alphabet), rng.choice(ODD_CHARACTERS))))
        elif op == 4 and out:
            end = min(len(out), where + rng.randint(1, 8))
            del out[where:end]
        elif op == 5:
            del out[where:]
        elif op == 6:  # something after the end
            out += list(rng.choice(("\n", "\r\n", " ", "\n\n", "\x00", "=", "==",
                                    rng.choice(alphabet), rng.choice(alphabet) * 3)))
        elif op == 7 and out:
            end = min(len(out), where + rng.randint(1, 16))
            out[where:where] = out[where:end]
        else:
            if out:
                spot = rng.randrange(len(out))
                out[spot] = out[spot].swapcase()
    return "".join(out)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        copy[head] = _replaced(value[head], rest, new)
        return copy
    copy_list = list(value)
    copy_list[head] = _replaced(value[head], rest, new)
    return copy_list


def _removed(value: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k != path[0]}
        return [v for i, v in enumerate(value) if i != path[0]]
    head = path[0]
    if isinstance(value, dict):
        return {**value, head: _removed(value[head], path[1:])}
    return [(_removed(v, path[1:]) if i == head else v) for i, v in enumerate(value)]


_MARK = "\x00~fuzz~\x00"


def mutate_json(rng: random.Random, value: Any, paths: list[tuple[Any, ...]],
                *, sort_keys: bool = False) -> str:
    """Return the compact JSON text of ``value`` with one node changed, removed or added.

    The new node may be any of NASTY_JSON, which need not be what ``json.dumps`` writes.
    """
    path = rng.choice(paths)
    op = rng.randrange(10)
    if op < 6:
        new = _replaced(value, path, _MARK)
    elif op < 8 and path:
        new = _removed(value, path)
    else:  # a new member beside the node
        parent = path[:-1] if path else ()
        node = value
        for step in parent:
            node = node[step]
        new = value
        if isinstance(node, dict):
            new = _replaced(value, parent, {**node, rng.choice(("x", "", "zz", "0")): _MARK})
        elif isinstance(node, list):
            new = _replaced(value, parent, [*node, _MARK])
    text = json.dumps(new, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    marked = json.dumps(_MARK, ensure_ascii=False)
    if op < 6 and rng.random() < 0.3:
        # A string of the same type, written otherwise: another spelling of a value.
        original = _at(value, path)
        if isinstance(original, str):
            return text.replace(marked, json.dumps(mutate_text(rng, original, original or "a"),
                                                   ensure_ascii=rng.random() < 0.5), 1)
    return text.replace(marked, rng.choice(NASTY_JSON), 1)


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _python_value(rng: random.Random) -> Any:
    """Return a value json.loads can give (as a web framework hands over a parsed body)."""
    choice = rng.randrange(12)
    if choice == 0:
        value: Any = []
        for _ in range(rng.choice((50, 900))):
            value = [value]
        return value
    return rng.choice((float("inf"), float("nan"), 10**40, -(10**40), 2**63, -1, 0, 1.5,
                       None, True, "", "²", "\ud800", "x" * 100_000, {}, {"a": 1}, ["a"],
                       "9999-12-31T23:59:59-23:59"))


# -- CBOR below the decoder: non-minimal heads and structures -----------------------


def _heads(data: bytes, start: int = 0) -> tuple[list[int], int]:
    """Return the offsets of every definite-length head in the item at ``start``, and its end."""
    offsets = [start]
    initial = data[start]
    major, info = initial >> 5, initial & 0x1F
    position = start + 1
    if info < 24:
        argument = info
    elif info <= 27:
        size = 1 << (info - 24)
        argument = int.from_bytes(data[position:position + size], "big")
        position += size
    else:
        raise ValueError("indefinite")
    if major in (2, 3):
        position += argument
    elif major == 4:
        for _ in range(argument):
            found, position = _heads(data, position)
            offsets += found
    elif major == 5:
        for _ in range(2 * argument):
            found, position = _heads(data, position)
            offsets += found
    elif major == 6:
        found, position = _heads(data, position)
        offsets += found
    return offsets, position


def widen_head(rng: random.Random, data: bytes) -> bytes:
    """Write one head of a canonical CBOR item in a longer form: same item, other bytes."""
    offsets, _end = _heads(data)
    spot = rng.choice(offsets)
    initial = data[spot]
    major, info = initial >> 5, initial & 0x1F
    if major == 7:
        return data + b"\x00"
    if info < 24:
        argument, size = info, 0
    else:
        size = 1 << (info - 24)
        argument = int.from_bytes(data[spot + 1:spot + 1 + size], "big")
    wider = {0: 1, 1: 2, 2: 4, 4: 8}.get(size, 8)
    if wider <= size:
        return data + b"\x00"
    head = bytes(((major << 5) | {1: 24, 2: 25, 4: 26, 8: 27}[wider],)) + argument.to_bytes(
        wider, "big")
    return data[:spot] + head + data[spot + 1 + size:]


def indefinite(data: bytes) -> bytes:
    """Write a canonical top-level array or map (under a tag, if any) with indefinite length."""
    prefix = b""
    if data[0] >> 5 == 6:
        offsets, _ = _heads(data)
        prefix, data = data[:offsets[1]], data[offsets[1]:]
    major = data[0] >> 5
    if major not in (4, 5):
        return prefix + data + b"\x00"
    offsets, _end = _heads(data)
    info = data[0] & 0x1F
    skip = 1 + (0 if info < 24 else 1 << (info - 24))
    return prefix + bytes(((major << 5) | 31,)) + data[skip:] + b"\xff"


def cbor_variant(rng: random.Random, data: bytes) -> bytes:
    """Return the same canonical CBOR item encoded otherwise, or with bytes after it."""
    op = rng.randrange(4)
    if op == 0:
        return widen_head(rng, data)
    if op == 1:
        return indefinite(data)
    if op == 2:
        return data + rng.choice((b"\x00", b"\xf6", b"\xa0", rng.randbytes(3)))
    return cbor2.dumps(cbor2.loads(data))  # what a non-canonical encoder writes


def cose_variant(rng: random.Random, message: bytes) -> bytes:
    """Return a COSE_Sign1 changed outside its signature: other headers, tag or shape."""
    tagged = cbor2.loads(message)
    protected, unprotected, payload, signature = tagged.value
    op = rng.randrange(7)
    if op == 0:
        return cbor_encode([protected, unprotected, payload, signature])  # untagged
    if op == 1:
        return cbor_encode(cbor2.CBORTag(98, [protected, unprotected, payload, signature]))
    if op == 2:
        extra = {**unprotected, rng.choice((99, 5, 1, -1)): rng.choice((b"", 0, "x"))}
        return cbor_encode(cbor2.CBORTag(18, [protected, extra, payload, signature]))
    if op == 3:  # the key id in both headers, or moved
        headers = cbor2.loads(protected)
        kid = headers.get(4) or unprotected.get(4)
        return cbor_encode(cbor2.CBORTag(18, [protected, {4: kid}, payload, signature]))
    if op == 4:  # the protected header encoded otherwise (it is signed: must fail)
        return cbor_encode(cbor2.CBORTag(18, [widen_head(rng, protected), unprotected, payload,
                                              signature]))
    if op == 5:
        return cbor_encode(cbor2.CBORTag(18, [protected, unprotected, payload,
                                              signature + b"\x00"]))
    return cbor_variant(rng, message)


def claims_variant(rng: random.Random, claims: dict[Any, Any]) -> dict[Any, Any]:
    """Return claims with one member replaced, removed or added (to be signed anew)."""
    paths = [path for path in _paths(claims) if path]
    path = rng.choice(paths)
    op = rng.randrange(4)
    if op == 0:
        return _removed(claims, path)
    if op == 1:
        return {**claims, rng.choice((99, -1, "x", 3)): rng.choice(NASTY_CBOR)}
    return _replaced(claims, path, rng.choice(NASTY_CBOR))


def _other_key_same_kid(trusted: SigningKey) -> SigningKey:
    """Return a key that names itself by ``trusted``'s key id: a forger's."""
    return SigningKey(trusted.kid, SigningKey.generate()._key)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def spare_bits(rng: random.Random, text: str) -> str:
    """Return base64(url) text whose last character differs in its spare bits only, if any."""
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                if "+" not in text and "/" not in text else
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    body = text.rstrip("=")
    padding = text[len(body):]
    if not body:
        return text + "="
    spare = {2: 4, 3: 2}.get(len(body) % 4, 0)
    if not spare:
        return text + rng.choice(("=", "==", "A"))
    value = alphabet.index(body[-1])
    other = (value & ~((1 << spare) - 1)) | rng.randrange(1, 1 << spare)
    return body[:-1] + alphabet[other] + padding


def _text_with_line_end(rng: random.Random, text: str) -> str:
    return text + rng.choice(("", "", "\n", "\r\n"))


def _strip_line_end(text: str) -> str:
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")


B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

# -- targets ------------------------------------------------------------------------


class Base45(Target):
    """``b45decode``: any text in, bytes out; one text for one byte string."""

    name = "base45"
    signed = False

    def __init__(self) -> None:
        from borderpass.kit.signing import SigningError

        self.own = (SigningError,)
        rng = random.Random(45)
        self.originals = [b45encode(rng.randbytes(n)) for n in (0, 1, 2, 3, 17, 64, 301)]

    def case(self, rng: random.Random) -> Case:
        text = rng.choice(self.originals)
        if rng.random() < 0.05:
            return Case(text)
        if rng.random() < 0.2:  # a group above 65535, or a lone byte above 255
            return Case(text + rng.choice(("GGW", "::", ":::", "ZZZ", "6")))
        return Case(mutate_text(rng, text, B45))

    def decode(self, value: Any) -> Any:
        return b45decode(value)

    def original(self, value: Any, result: Any) -> bool:
        return value in self.originals

    def classify(self, case: Case, result: Any) -> str:
        # Any base45 text spells some bytes (base45 is not signed): what matters is that
        # it is their one spelling.
        if b45encode(result) != case.value:
            return BAD
        return ORIGINAL if self.original(case.value, result) else UNSIGNED


class Cose(Target):
    """``open_sign1`` and ``verify_code``: a COSE_Sign1 in, claims out."""

    name = "cose"

    def __init__(self) -> None:
        from borderpass.kit.signing import SigningError

        self.own = (SigningError,)
        self.key = SigningKey.generate()
        self.claims = {1: "HK", 4: 1795910399, 6: 1795850000, 7: b"\x01" * 16,
                       -65537: {"v": 1, "c": "green", "n": "CTM"}}
        self.messages = [sign1(cbor_encode(self.claims), self.key),
                         sign1(cbor_encode(self.claims), self.key, kid_protected=False)]
        self.trusted = {self.key.kid: self.key.public}

    def case(self, rng: random.Random) -> Case:
        message = rng.choice(self.messages)
        roll = rng.random()
        if roll < 0.05:
            return Case(message)
        if roll < 0.45:
            return Case(mutate_bytes(rng, message))
        if roll < 0.8:
            return Case(cose_variant(rng, message))
        if roll < 0.9:
            key = _other_key_same_kid(self.key)
            return Case(sign1(cbor_encode(claims_variant(rng, self.claims)), key))
        payload = rng.choice((mutate_bytes(rng, cbor_encode(self.claims)),
                              cbor_encode(claims_variant(rng, self.claims))))
        return Case(sign1(payload, self.key), "remade")

    def decode(self, value: Any) -> Any:
        from borderpass.kit.signing import SigningError, verify_code
        from borderpass.kit.signing._cose import open_sign1

        signed = open_sign1(value)
        key = self.trusted.get(signed.kid)
        if key is None:
            raise SigningError("unknown_key")
        return verify_code(signed, key)

    def original(self, value: Any, result: Any) -> bool:
        return value in self.messages


class HealthCode(Target):
    """The offline verifier: code text in, a verdict out (it never raises)."""

    name = "health-code"
    own = (Refused,)

    def __init__(self) -> None:
        from borderpass.healthcode.codec import CodeClaims, encode
        from borderpass.healthcode.lists import TrustStore, sign_list

        self.key, anchor = SigningKey.generate(), SigningKey.generate()
        self.prefix = "BPHC1:"
        # Several codes: where a stream's last byte has spare bits depends on the bytes.
        self.texts = [encode(CodeClaims("HK", bytes([n]) * 16, NOW - timedelta(hours=1),
                                        NOW + timedelta(hours=12), "green", "CTM",
                                        "A1*****(3)", "hkid"), self.key, prefix=self.prefix)
                      for n in range(1, 9)]
        self.messages = [zlib.decompress(b45decode(t[len(self.prefix):])) for t in self.texts]
        self.claims = cbor2.loads(cbor2.loads(self.messages[0]).value[2])
        trust = sign_list({
            "type": "trust-list", "version": 1, "jurisdiction": "HK",
            "issued_at": NOW.isoformat(), "max_age_seconds": 86400, "keys": [{
                "kid": self.key.kid.hex(), "jurisdiction": "HK", "alg": "ES256",
                "public_key": self.key.public.to_b64(),
                "valid_from": (NOW - timedelta(days=1)).isoformat(), "valid_until": None}]},
            anchor)
        revocations = sign_list({
            "type": "revocations", "version": 1, "jurisdiction": "HK",
            "issued_at": NOW.isoformat(), "max_age_seconds": 86400, "poll_seconds": 30,
            "since": 0, "through": 1, "entries": [
                {"seq": 1, "hash": "0" * 32,
                 "expires_at": (NOW + timedelta(hours=1)).isoformat()}]},
            anchor)
        self.store = TrustStore.from_bundle({"trust_list": trust, "revocations": revocations})

    def _wrap(self, message: bytes, level: int = 9) -> str:
        return self.prefix + b45encode(zlib.compress(message, level))

    def case(self, rng: random.Random) -> Case:
        from borderpass.kit.signing import sign_code

        index = rng.randrange(len(self.texts))
        text, message = self.texts[index], self.messages[index]
        roll = rng.random()
        if roll < 0.05:
            return Case(_text_with_line_end(rng, text))
        if roll < 0.3:
            return Case(mutate_text(rng, text, B45))
        if roll < 0.4:
            compressed = zlib.compress(message, 9)
            return Case(self.prefix + b45encode(mutate_bytes(rng, compressed)))
        if roll < 0.55:
            return Case(self._wrap(mutate_bytes(rng, message)))
        if roll < 0.75:
            return Case(self._wrap(cose_variant(rng, message)))
        if roll < 0.85:
            key = _other_key_same_kid(self.key)
            return Case(sign_code(claims_variant(rng, self.claims), key, prefix=self.prefix))
        return Case(sign_code(claims_variant(rng, self.claims), self.key, prefix=self.prefix),
                    "remade")

    def decode(self, value: Any) -> Any:
        from borderpass.healthcode.verifier import verify

        verdict = verify(value, self.store, now=NOW, prefix=self.prefix)
        if not verdict.valid:
            raise Refused(verdict.reason)
        return verdict

    def original(self, value: Any, result: Any) -> bool:
        return _strip_line_end(value) in self.texts


class SignedLists(Target):
    """The trust and revocation lists as ``borderpass verify`` reads them from a file."""

    name = "signed-lists"

    def __init__(self) -> None:
        from borderpass.healthcode.lists import ListError, sign_list
        from borderpass.kit.decoding import DecodeError

        self.own = (ListError, DecodeError)
        self.anchor = SigningKey.generate()
        key = SigningKey.generate()
        self.trust = {
            "type": "trust-list", "version": 1, "jurisdiction": "HK",
            "issued_at": NOW.isoformat(), "max_age_seconds": 604800, "keys": [{
                "kid": key.kid.hex(), "jurisdiction": "HK", "alg": "ES256",
                "public_key": key.public.to_b64(),
                "valid_from": (NOW - timedelta(days=1)).isoformat(), "valid_until": None}]}
        self.revocations = {
            "type": "revocations", "version": 1, "jurisdiction": "HK",
            "issued_at": NOW.isoformat(), "max_age_seconds": 86400, "poll_seconds": 30,
            "since": 0, "through": 2, "entries": [
                {"seq": n, "hash": f"{n:032x}",
                 "expires_at": (NOW + timedelta(hours=n)).isoformat()} for n in (1, 2)]}
        self.envelopes = [sign_list(self.trust, self.anchor), sign_list(self.revocations,
                                                                          self.anchor)]
        self.bundle = {"trust_list": self.envelopes[0], "revocations": self.envelopes[1]}
        self.text = json.dumps(self.bundle, indent=2)
        self.paths = list(_paths(self.bundle))
        self.content_paths = [list(_paths(self.trust)), list(_paths(self.revocations))]

    def _sign(self, payload: bytes, key: SigningKey) -> dict[str, str]:
        from borderpass.kit.signing import sign_envelope

        return sign_envelope(payload, key)

    def case(self, rng: random.Random) -> Case:
        roll = rng.random()
        if roll < 0.05:
            return Case(self.text)
        if roll < 0.2:
            return Case(mutate_text(rng, self.text, B64URL + '{}[]":,'))
        if roll < 0.4:
            return Case(mutate_json(rng, self.bundle, self.paths))
        which = rng.randrange(2)
        name = ("trust_list", "revocations")[which]
        envelope = dict(self.envelopes[which])
        if roll < 0.55:  # a field of the envelope spelled otherwise
            member = rng.choice(("payload", "signature", "key", "kid", "alg"))
            value = envelope[member]
            envelope[member] = rng.choice((
                spare_bits(rng, value), value + "=", value + "==", value.upper(),
                " " + value, value + "\n", mutate_text(rng, value, B64URL)))
            return Case(json.dumps({**self.bundle, name: envelope}))
        if roll < 0.6:
            envelope[rng.choice(("x", "kid2", "payload "))] = "x"
            return Case(json.dumps({**self.bundle, name: envelope}))
        content = (self.trust, self.revocations)[which]
        payload = mutate_json(rng, content, self.content_paths[which], sort_keys=True)
        if roll < 0.7:  # signed by another key under the anchor's key id
            forged = self._sign(payload.encode("utf-8", "surrogatepass"),
                                _other_key_same_kid(self.anchor))
            forged["key"] = self.envelopes[0]["key"]
            return Case(json.dumps({**self.bundle, name: forged}))
        if which == 1 and rng.random() < 0.5:
            # The anchor signs a list that does not follow on, or overflows a duration.
            changed = {**self.revocations, rng.choice(("since", "through", "max_age_seconds",
                                                      "poll_seconds")): rng.choice(
                (10**20, 2**63, -1, 10**9 * 86400, 1.5, "3", True))}
            payload = json.dumps(changed, sort_keys=True)
        envelope = self._sign(payload.encode("utf-8", "surrogatepass"), self.anchor)
        return Case(json.dumps({**self.bundle, name: envelope}, ensure_ascii=False), "remade")

    def decode(self, value: Any) -> Any:
        from borderpass.healthcode.lists import TrustStore
        from borderpass.kit.decoding import load_json

        data = value.encode("utf-8", "surrogatepass")
        bundle = load_json(data)
        store = TrustStore.from_bundle(bundle, anchor=self.anchor.kid.hex())
        return bundle, store

    def original(self, value: Any, result: Any) -> bool:
        bundle, _store = result
        return all(bundle.get(name) in (None, self.bundle[name])
                   for name in ("trust_list", "revocations"))


class EChannelToken(Target):
    """The gate-1 token: QR text in, verified claims out."""

    name = "echannel-token"

    def __init__(self) -> None:
        from borderpass.echannel.qr import PREFIX, TokenRefused, make_token

        self.own = (TokenRefused,)
        self.prefix = PREFIX
        self.device, self.gates = SigningKey.generate(), SigningKey.generate()
        self.device_pem = self.device.public.to_pem()
        self.enrolment = uuid.UUID(int=7)
        self.texts = [make_token(self.enrolment, self.device.to_pem(), self.gates.public.to_pem(),
                                 now=NOW, nonce=bytes(range(16))) for _ in range(3)]
        self.encrypted = [b45decode(text[len(PREFIX):]) for text in self.texts]
        self.claims = {1: self.enrolment.bytes, 2: int(NOW.timestamp()) // 30,
                       3: bytes(range(16))}
        self.inner = sign1(cbor_encode(self.claims), self.device, kid_protected=False)

    def case(self, rng: random.Random) -> Case:
        index = rng.randrange(len(self.texts))
        text, encrypted = self.texts[index], self.encrypted[index]
        roll = rng.random()
        if roll < 0.05:
            return Case(_text_with_line_end(rng, text))
        if roll < 0.3:
            return Case(mutate_text(rng, text, B45))
        if roll < 0.45:
            return Case(self.prefix + b45encode(mutate_bytes(rng, encrypted)))
        if roll < 0.6:
            return Case(self.prefix + b45encode(self._encrypt_variant(rng, encrypted)))
        if roll < 0.75:  # encrypted anew to the gates: the signature inside must hold
            inner = rng.choice((mutate_bytes(rng, self.inner), cose_variant(rng, self.inner)))
            return Case(self.prefix + b45encode(encrypt_to(inner, self.gates.public)))
        if roll < 0.85:
            forged = sign1(cbor_encode(claims_variant(rng, self.claims)),
                           _other_key_same_kid(self.device), kid_protected=False)
            return Case(self.prefix + b45encode(encrypt_to(forged, self.gates.public)))
        remade = sign1(cbor_encode(claims_variant(rng, self.claims)), self.device,
                       kid_protected=False)
        return Case(self.prefix + b45encode(encrypt_to(remade, self.gates.public)), "remade")

    def _encrypt_variant(self, rng: random.Random, encrypted: bytes) -> bytes:
        if rng.random() < 0.6:
            return cbor_variant(rng, encrypted)
        tagged = cbor2.loads(encrypted)
        protected, unprotected, ciphertext, recipients = tagged.value
        op = rng.randrange(3)
        if op == 0:
            unprotected = {**unprotected, 99: b""}
        elif op == 1:
            [[r_protected, r_unprotected, r_cipher]] = recipients
            recipients = [[r_protected, {**r_unprotected, 99: 0}, r_cipher]]
        else:
            [[r_protected, r_unprotected, r_cipher]] = recipients
            key = dict(r_unprotected[-1])
            key[-3] = rng.choice((True, False))  # the point compressed: the same key
            recipients = [[r_protected, {**r_unprotected, -1: key}, r_cipher]]
        return cbor_encode(cbor2.CBORTag(96, [protected, unprotected, ciphertext, recipients]))

    def decode(self, value: Any) -> Any:
        from borderpass.echannel.qr import open_token, verify_token

        return verify_token(open_token(value, self.gates), self.device_pem)

    def original(self, value: Any, result: Any) -> bool:
        return _strip_line_end(value) in self.texts

    def classify(self, case: Case, result: Any) -> str:
        if self.original(case.value, result):
            return ORIGINAL
        if case.kind == "remade":
            return REMADE
        # Encrypting the device's own signed message anew needs that message, which only
        # the device and the gates see; the gates' key is public, so anyone holding it may.
        try:
            inner = b45decode(case.value[len(self.prefix):])
            from borderpass.kit.signing._encrypt import decrypt_from

            if decrypt_from(inner, self.gates) == self.inner:
                return REMADE
        except Exception:  # noqa: BLE001, S110 - it was accepted; classify it as changed
            pass
        return BAD


class CardChip(Target):
    """The identity card's chip: CBOR in, a verified card out."""

    name = "card-chip"

    def __init__(self) -> None:
        from borderpass.echannel.card import CardRefused, make_card

        self.own = (CardRefused,)
        self.authority = SigningKey.generate()
        self.trusted = {self.authority.kid: self.authority.public}
        self.photo = bytes(range(256)) * 4
        self.details = {"kind": "hkid", "number": "A123456(3)", "name_en": "CHAN, Tai Man",
                        "name_zh": "陳大文", "born": "1980-01-02", "issued": "2020-03-04"}
        self.chip = make_card(number="A1234563", name_en="CHAN, Tai Man", name_zh="陳大文",
                              born_on=date(1980, 1, 2), issued_on=date(2020, 3, 4),
                              photo=self.photo, authority=self.authority)
        self.content = cbor2.loads(self.chip)

    def _chip(self, content: dict[str, Any]) -> bytes:
        return cbor_encode(content)

    def case(self, rng: random.Random) -> Case:
        from borderpass.kit.signing import sign_chip

        roll = rng.random()
        if roll < 0.05:
            return Case(self.chip)
        if roll < 0.35:
            return Case(mutate_bytes(rng, self.chip))
        if roll < 0.5:
            return Case(cbor_variant(rng, self.chip))
        content = dict(self.content)
        if roll < 0.6:
            content[rng.choice(("x", "dg3", "v2"))] = rng.choice(NASTY_CBOR)
            return Case(self._chip(content))
        if roll < 0.7:
            member = rng.choice(("dg1", "dg2", "v"))
            content[member] = rng.choice((mutate_bytes(rng, content[member])
                                          if isinstance(content[member], bytes) else 2,
                                          rng.choice(NASTY_CBOR)))
            return Case(self._chip(content))
        if roll < 0.8:
            content["sod"] = rng.choice((cose_variant(rng, content["sod"]),
                                         mutate_bytes(rng, content["sod"])))
            return Case(self._chip(content))
        details = claims_variant(rng, self.details)
        if roll < 0.88:
            return Case(sign_chip(details, self.photo, _other_key_same_kid(self.authority)))
        return Case(sign_chip(details, self.photo, self.authority), "remade")

    def decode(self, value: Any) -> Any:
        from borderpass.echannel.card import verify_card

        return verify_card(value, self.trusted)

    def original(self, value: Any, result: Any) -> bool:
        return bool(value == self.chip)


class VenueSigned(Target):
    """The signed venue QR code (BPV1): text in, a venue out."""

    name = "venue-qr-bpv1"

    def __init__(self) -> None:
        from borderpass.checkin.qr import InvalidVenueCode, encode_signed
        from borderpass.kit.signing import DetachedSigner

        self.own = (InvalidVenueCode,)
        self.signer = DetachedSigner(bytes(range(32)))
        self.trust = {self.signer.key_id: self.signer.public}
        self.text = encode_signed(venue_id="K7QH2MXR4T", name_zh="金龍酒家",
                                  name_zh_hans="金龙酒家", name_en="Golden Dragon",
                                  type="restaurant",
                                  secret=bytes.fromhex("00112233445566778899aabbccddeeff"),
                                  generation=1, signer=self.signer)
        signed = self.text.rpartition(".")[0]
        self.payload = json.loads(base64.urlsafe_b64decode(signed[5:] + "=="))
        self.paths = list(_paths(self.payload))

    def _sign(self, payload: bytes, signer: Any) -> str:
        signed = "BPV1:" + _b64url(payload)
        return f"{signed}.{_b64url(signer.sign(signed.encode()))}"

    def case(self, rng: random.Random) -> Case:
        from borderpass.kit.signing import DetachedSigner

        roll = rng.random()
        if roll < 0.05:
            return Case(_text_with_line_end(rng, self.text))
        if roll < 0.4:
            return Case(mutate_text(rng, self.text, B64URL + "."))
        signed, _dot, signature = self.text.rpartition(".")
        if roll < 0.5:
            return Case(signed + "." + spare_bits(rng, signature))
        if roll < 0.55:
            return Case(rng.choice((" ", "\t", "\n", "")) + self.text + rng.choice(
                (" ", "\n\n", "\r", "\t", "")))
        payload = mutate_json(rng, self.payload, self.paths, sort_keys=True).encode(
            "utf-8", "surrogatepass")
        if roll < 0.65:
            forger = DetachedSigner.generate()
            return Case(self._sign(payload, forger))
        return Case(self._sign(payload, self.signer), "remade")

    def decode(self, value: Any) -> Any:
        from borderpass.checkin.qr import parse_venue_code

        return parse_venue_code(value, self.trust)

    def original(self, value: Any, result: Any) -> bool:
        return _strip_line_end(value) == self.text


class VenueLegacy(Target):
    """The legacy venue QR code (HKEN): unsigned, checked by an unkeyed hash."""

    name = "venue-qr-hken"
    signed = False

    def __init__(self) -> None:
        from borderpass.checkin.qr import InvalidVenueCode, legacy_hash

        self.own = (InvalidVenueCode,)
        self.venue_id = "WHBvLDSa"
        self.payload = {"metadata": {"typeEn": "Stores/Shopping Malls", "typeZh": "商店/商場"},
                        "nameZh": "荃新天地", "nameEn": "CityWalk", "type": "IMPORT",
                        "hash": legacy_hash(self.venue_id)}
        self.paths = list(_paths(self.payload))
        self.text = self._code(json.dumps(self.payload, ensure_ascii=False,
                                          separators=(",", ":")).encode())

    def _code(self, payload: bytes) -> str:
        return f"HKEN:0{self.venue_id}{base64.b64encode(payload).decode()}"

    def case(self, rng: random.Random) -> Case:
        roll = rng.random()
        if roll < 0.05:
            return Case(self.text)
        if roll < 0.4:
            return Case(mutate_text(rng, self.text, B64))
        if roll < 0.5:
            payload = dict(self.payload)
            payload["hash"] = rng.choice(("é" * 64, "\ud800", "٣" * 64, payload["hash"].upper(),
                                          payload["hash"][:-1] + "²", ""))
            return Case(self._code(json.dumps(payload, ensure_ascii=False).encode(
                "utf-8", "surrogatepass")))
        payload_text = mutate_json(rng, self.payload, self.paths)
        return Case(self._code(payload_text.encode("utf-8", "surrogatepass")))

    def decode(self, value: Any) -> Any:
        from borderpass.checkin.qr import parse_venue_code

        return parse_venue_code(value, {})

    def original(self, value: Any, result: Any) -> bool:
        return bool(value == self.text)

    def classify(self, case: Case, result: Any) -> str:
        from borderpass.checkin.qr import legacy_hash

        # Unsigned, but never a venue whose id the hash does not name.
        if legacy_hash(result.venue_id) != legacy_hash(self.venue_id):
            return BAD
        return ORIGINAL if self.original(case.value, result) else UNSIGNED


class ExposureList(Target):
    """The published exposure list: signed text in, an index of tokens out."""

    name = "exposure-list"

    def __init__(self) -> None:
        from borderpass.checkin.exposure import (
            InvalidExposureList,
            entries_for_case,
            render_list,
        )
        from borderpass.kit.signing import DetachedSigner

        self.own = (InvalidExposureList,)
        self.signer = DetachedSigner(bytes(range(32)))
        self.trust = {self.signer.key_id: self.signer.public}
        entries = entries_for_case([bytes(16), bytes(range(16))], NOW - timedelta(hours=3),
                                   NOW - timedelta(hours=1), taxi=True)[:40]
        self.text = render_list(entries, NOW, self.signer)
        self.body = self.text.rpartition("SIG ")[0]

    def _sign(self, body: str, signer: Any) -> str:
        signature = signer.sign(body.encode("utf-8", "surrogatepass"))
        return f"{body}SIG {signer.key_id} {_b64url(signature)}\n"

    def case(self, rng: random.Random) -> Case:
        from borderpass.kit.signing import DetachedSigner

        roll = rng.random()
        if roll < 0.05:
            return Case(self.text)
        if roll < 0.35:
            return Case(mutate_text(rng, self.text, "0123456789abcdef DI\n"))
        if roll < 0.45:
            head, _sep, signature = self.text.rstrip("\n").rpartition(" ")
            return Case(head + " " + spare_bits(rng, signature) + rng.choice(("\n", "\n\n", "")))
        lines = self.body.rstrip("\n").split("\n")
        spot = rng.randrange(len(lines))
        fields = lines[spot].split(" ")
        column = rng.randrange(len(fields))
        if rng.random() < 0.8:
            fields[column] = rng.choice((
                "1" * 40, "99999999999999", "-5", "+5", "0x10", "1_000", "٣", "²", "", "1e3",
                fields[column].upper(), fields[column] + " ", "Z", "253402300800"))
        else:
            fields[column] = mutate_text(rng, fields[column], "0123456789abcdef")
        lines[spot] = " ".join(fields)
        body = "\n".join(lines) + "\n"
        if roll < 0.55:
            return Case(self._sign(body, DetachedSigner.generate()))
        return Case(self._sign(body, self.signer), "remade")

    def decode(self, value: Any) -> Any:
        from borderpass.checkin.exposure import match, parse_list

        published = parse_list(value, self.trust)
        # Matching reads the entries: what the parser lets through must not break it.
        match([], published, now=NOW)
        return published

    def original(self, value: Any, result: Any) -> bool:
        return bool(value == self.text)


class UploadBundle(Target):
    """A phone's signed upload (BPU1): a parsed JSON body in, a checked bundle out."""

    name = "upload-bundle"

    def __init__(self) -> None:
        from borderpass.checkin.service import InvalidUpload, bundle_message
        from borderpass.kit.signing import DetachedSigner

        self.own = (InvalidUpload,)
        self.device = DetachedSigner(bytes(range(1, 33)))
        self.message = bundle_message
        records = [{"kind": kind, "place_id": place,
                    "start": (NOW - timedelta(days=day, hours=2)).isoformat(),
                    "end": (NOW - timedelta(days=day, hours=1)).isoformat()}
                   for day, (kind, place) in enumerate((("venue", "K7QH2MXR4T"),
                                                        ("legacy", "WHBvLDSa"),
                                                        ("taxi", "AB1234")))]
        bundle: dict[str, Any] = {
            "format": "BPU1", "device_key": _b64url(self.device.public),
            "created_at": NOW.isoformat(), "in_use_since": (NOW - timedelta(days=20)).isoformat(),
            "records": records}
        bundle["signature"] = _b64url(self.device.sign(bundle_message(bundle)))
        self.bundle = bundle
        self.canonical = self._canonical(bundle)
        self.paths = [path for path in _paths(bundle) if path]

    @staticmethod
    def _canonical(bundle: Any) -> str:
        return json.dumps(bundle, sort_keys=True, ensure_ascii=True)

    def _signed(self, bundle: dict[str, Any], signer: Any) -> dict[str, Any]:
        bundle = {k: v for k, v in bundle.items() if k != "signature"}
        bundle["signature"] = _b64url(signer.sign(self.message(bundle)))
        return bundle

    def case(self, rng: random.Random) -> Case:
        from borderpass.kit.signing import DetachedSigner

        roll = rng.random()
        if roll < 0.05:
            return Case(dict(self.bundle))
        path = rng.choice(self.paths)
        if roll < 0.25:
            member = rng.choice(("signature", "device_key"))
            value = self.bundle[member]
            return Case({**self.bundle, member: rng.choice((
                spare_bits(rng, value), value + "=", value + "==",
                mutate_text(rng, value, B64URL)))})
        if roll < 0.45:
            original = _at(self.bundle, path)
            new = (mutate_text(rng, original, original or "a") if isinstance(original, str)
                   and rng.random() < 0.5 else _python_value(rng))
            return Case(_replaced(self.bundle, path, new))
        if roll < 0.55:
            return Case(_removed(self.bundle, path) if rng.random() < 0.5
                        else {**self.bundle, "x": _python_value(rng)})
        changed = _replaced(self.bundle, path, _python_value(rng)) if path[0] != "signature" \
            else dict(self.bundle)
        if not isinstance(changed, dict):
            return Case(changed)
        try:
            if roll < 0.65:
                return Case(self._signed(changed, DetachedSigner.generate()))
            return Case(self._signed(changed, self.device), "remade")
        except (ValueError, UnicodeEncodeError):  # a value no UTF-8 JSON text can hold
            return Case(changed)

    def decode(self, value: Any) -> Any:
        from borderpass.checkin.service import _check_bundle

        return _check_bundle(value, NOW)

    def original(self, value: Any, result: Any) -> bool:
        try:
            return self._canonical(value) == self.canonical
        except ValueError:
            return False


class EvidenceBatch(Target):
    """A laboratory's or the registry's batch, CSV or JSON: bytes in, rows and problems out."""

    name = "evidence-batch"
    signed = False

    def __init__(self) -> None:
        from borderpass.evidence import ingestion

        self.own = (ingestion.BatchFormatError,)
        self.ingestion = ingestion
        tests = [{"specimen_id": f"S-{n}", "document_kind": "hkid", "document_number": number,
                  "collected_at": "2026-11-25T09:00:00+08:00",
                  "reported_at": "2026-11-25T15:00:00+08:00", "method": "PCR",
                  "result": "negative", "lab": "Fuzz Lab"}
                 for n, number in enumerate(("A123456(3)", "B1234560", "C668668(E)"))]
        vaccinations = [{"document_kind": "hkid", "document_number": "A123456(3)",
                         "dose_number": dose, "product": "Comirnaty",
                         "vaccinated_on": f"2021-0{dose + 3}-01", "provider": "CVC"}
                        for dose in (1, 2, 3)]
        self.batches: list[tuple[str, str, Any]] = []
        for kind, rows, fields in (("tests", tests, ingestion.TEST_FIELDS),
                                   ("vaccinations", vaccinations, ingestion.VACCINATION_FIELDS)):
            document = {kind: rows}
            self.batches.append((kind, "json", (document, list(_paths(document)))))
            csv_text = ",".join(fields) + "\n" + "".join(
                ",".join(str(row[name]) for name in fields) + "\n" for row in rows)
            self.batches.append((kind, "csv", csv_text))

    def case(self, rng: random.Random) -> Case:
        kind, media, original = rng.choice(self.batches)
        roll = rng.random()
        if media == "json":
            document, paths = original
            if roll < 0.05:
                text = json.dumps(document)
            elif roll < 0.3:
                text = mutate_text(rng, json.dumps(document), '{}[]":,0123456789')
            else:
                text = mutate_json(rng, document, paths)
        elif roll < 0.05:
            text = original
        elif roll < 0.15:
            lines = original.split("\n")
            spot = rng.randrange(1, len(lines) - 1)
            cells = lines[spot].split(",")
            cells[rng.randrange(len(cells))] = rng.choice((
                '"' + "x" * 131_073 + '"', "x" * 131_073, "²", "٣", "\x00", '"a\nb"', "1e400",
                "9" * 5000, "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "\ud800"))
            lines[spot] = ",".join(cells)
            text = "\n".join(lines)
        else:
            text = mutate_text(rng, original, ',"\n0123456789:-T+')
        if rng.random() < 0.05:
            text = "\ufeff" + text
        return Case((kind, media, text.encode("utf-8", "surrogatepass")))

    def decode(self, value: Any) -> Any:
        kind, media, content = value
        ingestion = self.ingestion
        if kind == "tests":
            fields, key = ingestion.TEST_FIELDS, "tests"

            def validate(row: dict[str, Any]) -> Any:
                return ingestion.test_row(row, _indexer, NOW, laboratory="Fuzz Lab")
        else:
            fields, key = ingestion.VACCINATION_FIELDS, "vaccinations"

            def validate(row: dict[str, Any]) -> Any:
                return ingestion.vaccination_row(row, _indexer, NOW)
        return [validate(row) for _line, row in ingestion.read_rows(content, media, fields, key)]

    def original(self, value: Any, result: Any) -> bool:
        return False

    def classify(self, case: Case, result: Any) -> str:
        return UNSIGNED


def _indexer(kind: str, number: str) -> str:
    return hashlib.sha256(f"{kind}\x00{number}".encode()).hexdigest()


class RuleSetDocument(Target):
    """A rule-set file: JSON in, a validated and compiled rule set out, then evaluated."""

    name = "rule-set"
    signed = False

    def __init__(self) -> None:
        from borderpass.evidence.schemas import PersonFacts
        from borderpass.rules.ruleset import InvalidRuleSet, default_document

        self.own = (InvalidRuleSet,)
        self.text = default_document().decode()
        self.document = json.loads(self.text)
        self.paths = list(_paths(self.document))
        self.facts = [PersonFacts(), PersonFacts(
            last_negative_at=NOW - timedelta(hours=30), last_positive_at=NOW - timedelta(days=3),
            flag_since=NOW - timedelta(days=2), flag_kinds=("close_contact",),
            order_issued_at=NOW - timedelta(days=1), order_reference="CTO-1",
            exposure_at=NOW - timedelta(days=4), exposure_venue="K7QH2MXR4T", doses=2,
            last_dose_at=NOW - timedelta(days=200))]

    def case(self, rng: random.Random) -> Case:
        roll = rng.random()
        if roll < 0.03:
            return Case(self.text)
        if roll < 0.25:
            return Case(mutate_text(rng, self.text, '{}[]":,0123456789'))
        return Case(mutate_json(rng, self.document, self.paths))

    def decode(self, value: Any) -> Any:
        from borderpass.rules.ruleset import compile_rule_set, load_json, parse_rule_set
        from borderpass.rules.status import evaluate

        rule_set = compile_rule_set(parse_rule_set(load_json(value.encode("utf-8",
                                                                          "surrogatepass"))))
        # What validation lets through must evaluate: a status page must not fail later.
        for facts in self.facts:
            evaluate(facts, rule_set, NOW)
        return rule_set

    def original(self, value: Any, result: Any) -> bool:
        return bool(value == self.text)


class Keys(Target):
    """Public keys as trust lists carry them (base64 SPKI), and PEM keys from files."""

    name = "keys"

    def __init__(self) -> None:
        from cryptography.hazmat.primitives import serialization

        from borderpass.kit.signing import SigningError, VerifyKey

        self.own = (SigningError,)
        self.verify_key = VerifyKey
        self.keys = [SigningKey.generate() for _ in range(2)]
        self.texts = [key.public.to_b64() for key in self.keys]
        self.ders = [base64.b64decode(text) for text in self.texts]
        # The same key with its point compressed: another DER of one key.
        self.compressed = []
        for key in self.keys:
            point = key._key.public_key().public_bytes(serialization.Encoding.X962,
                                                      serialization.PublicFormat.CompressedPoint)
            self.compressed.append(bytes.fromhex(
                "3039301306072a8648ce3d020106082a8648ce3d030107032200") + point)
        self.pems = [key.to_pem().decode() for key in self.keys] + [
            key.public.to_pem().decode() for key in self.keys]

    def case(self, rng: random.Random) -> Case:
        roll = rng.random()
        index = rng.randrange(len(self.keys))
        if roll < 0.05:
            return Case(("b64", self.texts[index]))
        if roll < 0.3:
            return Case(("b64", mutate_text(rng, self.texts[index], B64)))
        if roll < 0.4:
            return Case(("b64", spare_bits(rng, self.texts[index])))
        if roll < 0.6:
            der = mutate_bytes(rng, self.ders[index]) if rng.random() < 0.8 else (
                self.compressed[index])
            return Case(("b64", base64.b64encode(der).decode()))
        if roll < 0.7:  # another algorithm or curve named in the key's OIDs
            der = bytearray(self.ders[index])
            spot = rng.randrange(4, 26)
            der[spot] = rng.randrange(256)
            return Case(("b64", base64.b64encode(bytes(der)).decode()))
        pem = rng.choice(self.pems)
        return Case(("pem", mutate_text(rng, pem, B64 + "\n-")
                     if rng.random() < 0.9 else pem.replace("\n", "\r\n")))

    def decode(self, value: Any) -> Any:
        form, text = value
        if form == "b64":
            return self.verify_key.from_b64(text)
        data = text.encode("utf-8", "surrogatepass")
        if "PRIVATE" in text and "PUBLIC" not in text:
            return SigningKey.from_pem(data)
        return self.verify_key.from_pem(data)

    def classify(self, case: Case, result: Any) -> str:
        form, text = case.value
        if form == "pem":  # a file, not a signed object: PEM has many spellings
            return ORIGINAL if text in self.pems else UNSIGNED
        return ORIGINAL if text in self.texts else BAD



# -- foreign codes: the EU DCC and SMART Health Cards ---------------------------------

_VECTORS = __import__("pathlib").Path(__file__).resolve().parents[1] / "tests" / "vectors"


def _clock(text: str) -> datetime:
    """Read a DCC case's validation clock (zone or not, ``+0200``, long fractions)."""
    import re

    match = re.fullmatch(r"([0-9T:-]{19})(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?", text)
    if match is None:
        raise ValueError(f"not a validation clock: {text!r}")
    base, fraction, zone = match.groups()
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    zone = "+00:00" if zone in (None, "Z") else f"{zone[:3]}:{zone[-2:]}"
    return datetime.fromisoformat(base + zone).replace(microsecond=micro)


def _signed_parts(text: str) -> tuple[bytes, bytes, bytes] | None:
    """Return a DCC text's protected header, payload and signature: what its signature covers."""
    try:
        item = cbor2.loads(zlib.decompress(b45decode(_strip_line_end(text)[4:])))
        while isinstance(item, cbor2.CBORTag):
            item = item.value
        return item[0], item[2], item[3]
    except Exception:  # noqa: BLE001 - only asked of texts the verifier accepted
        return None


class Dcc(Target):
    """The EU DCC verifier: QR text in, a result out (it never raises).

    Its originals are the official cases that are valid at their clock. The parts of a
    DCC its signature does not cover (the unprotected header, the tags, the compression)
    may be written otherwise by its issuer: a verifier accepts such a text, counted as
    "changed but unsigned"; a change to what is signed must be refused.
    """

    name = "dcc"
    own = (Refused,)
    time_limit = 0.05

    def __init__(self) -> None:
        from borderpass.kit.signing.foreign import Certificate
        from borderpass.worldcodes.dcc import verify_dcc
        from borderpass.worldcodes.trust import DccTrust

        self.originals = []
        for path in sorted((_VECTORS / "dcc" / "testdata").glob("*/2DCode/*/*.json")):
            raw = json.loads(path.read_text())
            certificate = Certificate.from_der(base64.b64decode(raw["TESTCTX"]["CERTIFICATE"]))
            trust = DccTrust.from_certificates([certificate])
            clock = _clock(raw["TESTCTX"]["VALIDATIONCLOCK"])
            if verify_dcc(raw["PREFIX"], trust, now=clock).valid:
                message = zlib.decompress(b45decode(raw["PREFIX"][4:]))
                self.originals.append((raw["PREFIX"], trust, clock, message))
        self.signed = {_signed_parts(text) for text, *_ in self.originals}
        self.decode((0, self.originals[0][0]))  # imports and first-use caches, not timed

    def case(self, rng: random.Random) -> Case:
        index = rng.randrange(len(self.originals))
        text, _, _, message = self.originals[index]
        roll = rng.random()
        if roll < 0.05:
            return Case((index, _text_with_line_end(rng, text)))
        if roll < 0.35:
            return Case((index, mutate_text(rng, text, B45)))
        if roll < 0.45:
            changed = mutate_bytes(rng, zlib.compress(message, 9))
            return Case((index, "HC1:" + b45encode(changed)))
        if roll < 0.65:
            return Case((index, "HC1:" + b45encode(zlib.compress(mutate_bytes(rng, message)))))
        if roll < 0.8:
            respelled = self._respelled(rng, message)
            return Case((index, "HC1:" + b45encode(zlib.compress(respelled,
                                                                 rng.choice((1, 6, 9))))))
        if roll < 0.9:
            return Case((index, "HC1:" + "".join(rng.choice(B45)
                                                 for _ in range(rng.randint(0, 600)))))
        return Case((index, "".join(rng.choice(ODD_CHARACTERS + tuple(B45))
                                    for _ in range(rng.randint(0, 80)))))

    def _respelled(self, rng: random.Random, message: bytes) -> bytes:
        """Return the COSE_Sign1 written otherwise outside what its signature covers."""
        item = cbor2.loads(message)
        tags = []
        while isinstance(item, cbor2.CBORTag):
            tags.append(item.tag)
            item = item.value
        protected, unprotected, payload, signature = item
        op = rng.randrange(5)
        if op == 0:
            value: Any = [protected, unprotected, payload, signature]  # untagged
        elif op == 1:
            value = cbor2.CBORTag(61, cbor2.CBORTag(18, [protected, unprotected, payload,
                                                          signature]))
        elif op == 2:  # something unsigned in the unprotected header
            value = cbor2.CBORTag(18, [protected, {**unprotected, rng.choice((5, 99, -1)):
                                                   rng.choice(NASTY_CBOR)}, payload, signature])
        elif op == 3:  # another key id beside the protected one, or none
            value = cbor2.CBORTag(18, [protected, {4: rng.randbytes(rng.choice((3, 8)))},
                                       payload, signature])
        else:  # a tag the format does not know
            value = cbor2.CBORTag(rng.choice((16, 98, 55799)),
                                  [protected, unprotected, payload, signature])
        return bytes(cbor2.dumps(value))

    def decode(self, value: Any) -> Any:
        from borderpass.worldcodes.dcc import verify_dcc

        index, text = value
        _, trust, clock, _ = self.originals[index]
        result = verify_dcc(text, trust, now=clock)
        if not result.valid:
            raise Refused(result.reason)
        return result

    def original(self, value: Any, result: Any) -> bool:
        return _strip_line_end(value[1]) == self.originals[value[0]][0]

    def classify(self, case: Case, result: Any) -> str:
        if self.original(case.value, result):
            return ORIGINAL
        return UNSIGNED if _signed_parts(case.value[1]) in self.signed else BAD


def _numeric(jws: str) -> str:
    return "shc:/" + "".join(f"{ord(character) - 45:02d}" for character in jws)


class SmartHealthCard(Target):
    """The SMART Health Cards verifier: QR text (or chunks) in, a result out.

    Its originals are the two official examples, whole or in chunks in any order.
    """

    name = "shc"
    own = (Refused,)
    time_limit = 0.05

    def __init__(self) -> None:
        from borderpass.worldcodes.trust import ShcIssuers

        examples = _VECTORS / "shc" / "examples"
        self.jws = [(examples / f"example-{n}-d-jws.txt").read_text().strip()
                    for n in ("00", "01")]
        self.issuers = ShcIssuers.load(_VECTORS / "shc" / "issuers")
        self.now = datetime(2026, 11, 30, tzinfo=UTC)
        self.decode([_numeric(self.jws[0])])  # imports and first-use caches, not timed

    def case(self, rng: random.Random) -> Case:
        jws = rng.choice(self.jws)
        text = _numeric(jws)
        roll = rng.random()
        if roll < 0.05:
            return Case([_text_with_line_end(rng, text)])
        if roll < 0.1:
            digits = text[5:]
            count = rng.randint(2, 4)
            size = -(-len(digits) // 2 // count) * 2
            chunks = [f"shc:/{n + 1}/{count}/{digits[n * size:(n + 1) * size]}"
                      for n in range(count)]
            rng.shuffle(chunks)
            if rng.random() < 0.5:
                chunks[rng.randrange(count)] = mutate_text(rng, chunks[0], "0123456789/")
            return Case(chunks)
        if roll < 0.4:
            return Case([mutate_text(rng, text, "0123456789")])
        if roll < 0.6:
            return Case([_numeric(mutate_text(rng, jws, B64URL_ALPHABET + "."))])
        header, payload, signature = jws.split(".")
        if roll < 0.8:  # the payload's DEFLATE stream changed, the signature kept
            inflated = zlib.decompress(base64.urlsafe_b64decode(payload + "=="), -15)
            if rng.random() < 0.5:
                inflated = mutate_bytes(rng, inflated)
            deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
            changed = deflater.compress(inflated) + deflater.flush()
            if rng.random() < 0.5:
                changed = mutate_bytes(rng, changed)
            return Case([_numeric(f"{header}.{_b64url(changed)}.{signature}")])
        if roll < 0.9:  # another header
            fields = json.loads(base64.urlsafe_b64decode(header + "=="))
            fields[rng.choice(("alg", "zip", "kid", "crit", "x"))] = rng.choice(
                ("ES256", "none", "DEF", 1, None, ["kid"], "x" * 43))
            new = _b64url(json.dumps(fields).encode())
            return Case([_numeric(f"{new}.{payload}.{signature}")])
        return Case(["shc:/" + "".join(rng.choice("0123456789/")
                                        for _ in range(rng.randint(0, 400)))])

    def decode(self, value: Any) -> Any:
        from borderpass.worldcodes.shc import verify_shc

        result = verify_shc(value, self.issuers, now=self.now)
        if not result.valid:
            raise Refused(result.reason)
        return result

    def original(self, value: Any, result: Any) -> bool:
        from borderpass.worldcodes.shc import assemble

        digits = assemble(value)
        jws = "".join(chr(int(digits[i:i + 2]) + 45) for i in range(0, len(digits), 2))
        return jws in self.jws


B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


TARGETS: dict[str, Callable[[], Target]] = {
    "base45": Base45, "cose": Cose, "health-code": HealthCode, "signed-lists": SignedLists,
    "echannel-token": EChannelToken, "card-chip": CardChip, "venue-qr-bpv1": VenueSigned,
    "venue-qr-hken": VenueLegacy, "exposure-list": ExposureList,
    "upload-bundle": UploadBundle, "evidence-batch": EvidenceBatch,
    "rule-set": RuleSetDocument, "keys": Keys, "dcc": Dcc, "shc": SmartHealthCard,
}


def _one(job: tuple[str, int, int]) -> Outcome:
    name, count, seed = job
    return run(TARGETS[name](), count, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--per-decoder", type=int, default=DEFAULT_PER_DECODER,
                        help="inputs per decoder (default 200,000)")
    parser.add_argument("--only", action="append", choices=sorted(TARGETS),
                        help="fuzz only this decoder (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="decoders fuzzed at once, each in its own process")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    # The harness needs no database and no secrets of a real installation: anything the
    # settings generate goes to a folder of its own.
    os.environ.setdefault("BORDERPASS_VAR_DIR", tempfile.mkdtemp(prefix="borderpass-fuzz-"))
    names = args.only or list(TARGETS)
    jobs = [(name, args.per_decoder, args.seed) for name in names]
    started = time.perf_counter()
    if args.jobs > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(args.jobs, len(jobs))) as pool:
            outcomes = []
            for outcome in pool.map(_one, jobs):
                print(outcome.line(), flush=True)
                outcomes.append(outcome)
    else:
        outcomes = []
        for job in jobs:
            outcome = _one(job)
            print(outcome.line(), flush=True)
            outcomes.append(outcome)
    for outcome in outcomes:
        for example in outcome.examples:
            print(f"  {outcome.name}: {example}")
    total = sum(outcome.inputs for outcome in outcomes)
    failed = [outcome.name for outcome in outcomes if not outcome.ok or outcome.slow]
    print(f"fuzz: {total:,} inputs to {len(outcomes)} decoders in "
          f"{time.perf_counter() - started:,.0f} s; "
          + (f"FAILED: {', '.join(failed)}" if failed else
             "no escapes, no other encodings, no forgeries"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
