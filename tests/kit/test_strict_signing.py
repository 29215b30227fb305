"""The signing recipes read exactly one encoding of each signed object: bytes after a
CBOR item or a zlib stream, other encodings of what the signature does not cover, and
keys written otherwise are refused, each with a SigningError and its reason."""

from __future__ import annotations

import base64
import random
import zlib

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization

from borderpass.kit.signing import (
    SigningError,
    SigningKey,
    VerifyKey,
    decrypt_code,
    encrypt_code,
    open_envelope,
    read_chip,
    read_code,
    sign_chip,
    sign_code,
    sign_envelope,
    verify_code,
)

# Private on purpose: malformed messages are made below the recipes.
from borderpass.kit.signing._base45 import b45decode, b45encode
from borderpass.kit.signing._cose import cbor_decode, cbor_encode, open_sign1, sign1
from borderpass.kit.signing._encrypt import encrypt_to

PREFIX = "TEST1:"
CLAIMS = {1: "HK", 4: 1_800_000_000, 7: b"\x01" * 16, -65537: {"v": 1, "c": "green"}}
KEY = SigningKey.generate()


def _reason(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(SigningError) as caught:
        call(*args, **kwargs)
    return caught.value.reason


def _code_of(message: bytes) -> str:
    return PREFIX + b45encode(zlib.compress(message, 9))


def _message() -> bytes:
    return sign1(cbor_encode(CLAIMS), KEY)


# -- CBOR and COSE_Sign1 --------------------------------------------------------------


def test_bytes_after_a_cbor_item_are_refused() -> None:
    item = cbor_encode({1: b"x"})
    assert cbor_decode(item) == {1: b"x"}
    for extra in (b"\x00", b"\xf6", b"\xa0", item):
        assert _reason(cbor_decode, item + extra) == "bad_cbor"


def test_the_stream_position_and_the_decoder_buffer_agree_on_what_follows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from borderpass.kit.signing import _cose

    # The installed cbor2 reads only what an item needs past its first piece, so the
    # quicker way is the one in use; and it refuses exactly what the other way refuses.
    assert _cose._POSITION_TELLS
    rng = random.Random(5)  # noqa: S311 - repeatable data, not a secret
    items = [b"", b"\x00", b"\x01", b"\xff", cbor_encode(CLAIMS), _message()]
    for _ in range(300):
        item = cbor_encode({rng.randrange(-99, 99): bytes(rng.randrange(256) for _ in range(
            rng.choice((0, 1, 23, 24, 300)))) for _ in range(rng.randrange(4))})
        items += [item, item + bytes([rng.randrange(256)]), item[:rng.randrange(len(item))],
                  item + item]

    def read_all() -> list[object]:
        read: list[object] = []
        for data in items:
            try:
                read.append(cbor_decode(data))
            except SigningError as error:
                read.append(error.reason)
        return read

    quick = read_all()
    monkeypatch.setattr(_cose, "_POSITION_TELLS", False)
    assert read_all() == quick
    assert "bad_cbor" in quick and any(not isinstance(read, str) for read in quick)


@pytest.mark.parametrize("encoded", [
    bytes.fromhex("a1 18 01 41 78".replace(" ", "")),  # the key 1 in two bytes
    bytes.fromhex("bf 01 41 78 ff".replace(" ", "")),  # a map of indefinite length
    bytes.fromhex("a2 02 41 79 01 41 78".replace(" ", "")),  # keys out of order
    bytes.fromhex("a1 01 5f 41 78 ff".replace(" ", "")),  # a byte string in chunks
])
def test_a_canonical_read_refuses_other_encodings(encoded: bytes) -> None:
    cbor_decode(encoded)
    assert _reason(cbor_decode, encoded, canonical=True) == "bad_cbor"


def test_a_cycle_has_no_canonical_encoding() -> None:
    cyclic = bytes.fromhex("d81c81d81d00")  # a shared array that holds itself
    assert _reason(cbor_decode, cyclic, canonical=True) == "bad_cbor"


def test_the_cose_sign1_around_the_signature_has_one_encoding() -> None:
    message = _message()
    assert open_sign1(message).kid == KEY.kid
    protected, unprotected, payload, signature = cbor2.loads(message).value
    others = [
        message + b"\x00",
        cbor_encode([protected, unprotected, payload, signature]),  # untagged
        cbor_encode(cbor2.CBORTag(18, [protected, {99: 0}, payload, signature])),
        cbor_encode(cbor2.CBORTag(18, [protected, {4: KEY.kid}, payload, signature])),
        message[:1] + b"\x98\x04" + message[2:],  # the array's head in two bytes
    ]
    for other in others:
        assert _reason(open_sign1, other) in ("bad_cbor", "bad_cose"), other.hex()


def test_a_key_id_outside_the_signature_must_name_the_key_that_checks_it() -> None:
    other = SigningKey.generate()
    message = sign1(cbor_encode(CLAIMS), KEY, kid_protected=False)
    protected, _unprotected, payload, signature = cbor2.loads(message).value
    renamed = cbor_encode(cbor2.CBORTag(18, [protected, {4: other.kid}, payload, signature]))
    assert verify_code(open_sign1(message), KEY.public) == CLAIMS
    assert _reason(verify_code, open_sign1(renamed), KEY.public) == "bad_signature"


def test_an_algorithm_written_as_a_float_is_refused() -> None:
    protected = cbor_encode({1: -7.0, 4: KEY.kid})
    _p, unprotected, payload, signature = cbor2.loads(_message()).value
    forged = cbor_encode(cbor2.CBORTag(18, [protected, unprotected, payload, signature]))
    assert _reason(open_sign1, forged) == "unsupported_algorithm"


# -- code texts -------------------------------------------------------------------------


def test_bytes_after_the_zlib_stream_are_refused() -> None:
    text = sign_code(CLAIMS, KEY, prefix=PREFIX)
    compressed = b45decode(text[len(PREFIX):])
    assert read_code(text, prefix=PREFIX).kid == KEY.kid
    for extra in (b"\x00", b"junk", compressed):
        longer = PREFIX + b45encode(compressed + extra)
        assert _reason(read_code, longer, prefix=PREFIX) == "bad_compression"


def test_a_code_may_end_with_one_line_end_and_nothing_else() -> None:
    text = sign_code(CLAIMS, KEY, prefix=PREFIX)
    assert read_code(text + "\n", prefix=PREFIX) == read_code(text + "\r\n", prefix=PREFIX)
    for other in (text + "\n\n", " " + text, text + " ", "\n" + text, text + "\t"):
        assert _reason(read_code, other, prefix=PREFIX) in ("bad_prefix", "bad_base45")


def test_a_code_whose_cose_is_encoded_otherwise_is_refused() -> None:
    protected, unprotected, payload, signature = cbor2.loads(_message()).value
    untagged = cbor_encode([protected, unprotected, payload, signature])
    assert _reason(read_code, _code_of(untagged), prefix=PREFIX) == "bad_cose"
    assert _reason(read_code, _code_of(_message() + b"\xf6"), prefix=PREFIX) == "bad_cose"


def test_bytes_after_the_encrypted_token_are_refused() -> None:
    gates, device = SigningKey.generate(), SigningKey.generate()
    text = encrypt_code(CLAIMS, device, gates.public, prefix=PREFIX)
    encrypted = b45decode(text[len(PREFIX):])
    assert decrypt_code(text, gates, prefix=PREFIX).kid == device.kid
    for extra in (b"\x00", b"\xf6", encrypted):
        longer = PREFIX + b45encode(encrypted + extra)
        assert _reason(decrypt_code, longer, gates, prefix=PREFIX) == "bad_cbor"


def test_the_headers_outside_the_ciphertext_have_one_encoding() -> None:
    gates, device = SigningKey.generate(), SigningKey.generate()
    signed = sign1(cbor_encode(CLAIMS), device, kid_protected=False)
    encrypted = encrypt_to(signed, gates.public)
    protected, unprotected, ciphertext, [[r_protected, r_unprotected, r_cipher]] = (
        cbor2.loads(encrypted).value)
    ephemeral = dict(r_unprotected[-1])
    ephemeral[-3] = True  # the same point, compressed
    others = [
        cbor_encode(cbor2.CBORTag(96, [protected, {**unprotected, 99: b""}, ciphertext,
                                       [[r_protected, r_unprotected, r_cipher]]])),
        cbor_encode(cbor2.CBORTag(96, [protected, unprotected, ciphertext,
                                       [[r_protected, {**r_unprotected, 99: 0}, r_cipher]]])),
        cbor_encode(cbor2.CBORTag(96, [protected, unprotected, ciphertext,
                                       [[r_protected, {**r_unprotected, -1: ephemeral},
                                         r_cipher]]])),
        cbor2.dumps(cbor2.loads(encrypted)).replace(b"\xd8\x60\x84", b"\xd8\x60\x98\x04", 1),
    ]
    assert decrypt_code(PREFIX + b45encode(encrypted), gates, prefix=PREFIX).kid == device.kid
    for other in others:
        assert _reason(decrypt_code, PREFIX + b45encode(other), gates, prefix=PREFIX) == "bad_cbor"


# -- chips --------------------------------------------------------------------------------


def test_the_map_around_a_chips_data_groups_has_one_encoding() -> None:
    authority = SigningKey.generate()
    trusted = {authority.kid: authority.public}
    chip = sign_chip({"number": "A123456(3)"}, b"photo", authority)
    assert read_chip(chip, trusted).details == {"number": "A123456(3)"}
    content = cbor2.loads(chip)
    others = [
        chip + b"\x00",
        cbor_encode({**content, "x": 1}),
        cbor_encode({**content, "v": True}),
        cbor_encode({**content, "v": 1.0}),
        cbor2.dumps({"v": 1, "sod": content["sod"], "dg2": content["dg2"],
                     "dg1": content["dg1"]}),
    ]
    for other in others:
        assert _reason(read_chip, other, trusted) == "malformed"


# -- keys and envelopes ----------------------------------------------------------------------


def _der(key: SigningKey) -> bytes:
    return base64.b64decode(key.public.to_b64())


@pytest.mark.parametrize(("offset", "value"), [
    (8, 0x01),  # id-ecPublicKey becomes another algorithm's OID
    (13, 0xFF),
    (24, 0x08),  # prime256v1 becomes another curve's OID
    (22, 0x00),
])
def test_a_key_whose_oid_was_changed_is_a_bad_key(offset: int, value: int) -> None:
    der = bytearray(_der(KEY))
    assert der[offset] != value
    der[offset] = value
    assert _reason(VerifyKey.from_b64, base64.b64encode(bytes(der)).decode()) == "bad_key"


def test_a_key_has_one_text() -> None:
    text = KEY.public.to_b64()
    assert VerifyKey.from_b64(text).kid == KEY.kid
    point = KEY.public._key.public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.CompressedPoint)
    compressed = bytes.fromhex("3039301306072a8648ce3d020106082a8648ce3d030107032200") + point
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = text.rstrip("=")
    spare = body[:-1] + alphabet[alphabet.index(body[-1]) + 1] + text[len(body):]
    for other in (base64.b64encode(compressed).decode(), spare, body, text + "\n",
                  text.replace("/", "_").replace("+", "-")):
        if other != text:
            assert _reason(VerifyKey.from_b64, other) == "bad_key", other


def test_an_envelope_has_one_encoding() -> None:
    envelope = sign_envelope(b'{"a":1}', KEY)
    assert open_envelope(envelope) == (b'{"a":1}', KEY.kid.hex())
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    signature = envelope["signature"]
    spare = signature[:-1] + alphabet[alphabet.index(signature[-1]) + 1]
    others = [
        {**envelope, "signature": spare},
        {**envelope, "signature": signature + "=="},
        {**envelope, "payload": envelope["payload"] + "\n"},
        {**envelope, "payload": envelope["payload"][:4] + "." + envelope["payload"][4:]},
        {**envelope, "kid": envelope["kid"].upper()},
        {**envelope, "x": "1"},
        {key: value for key, value in envelope.items() if key != "alg"},
        {**envelope, "key": [envelope["key"]]},
    ]
    for other in others:
        assert _reason(open_envelope, other) == "bad_envelope", other


def _with_spare_bit_set(compressed: bytes) -> bytes | None:
    """The same stream with one of the ignored bits after its last block set, if any."""
    last = len(compressed) - 5
    for bit in range(7, 0, -1):
        changed = bytearray(compressed)
        changed[last] |= 1 << bit
        if bytes(changed) != compressed:
            try:
                if zlib.decompress(bytes(changed)) == zlib.decompress(compressed):
                    return bytes(changed)
            except zlib.error:
                pass
    return None


def test_a_zlib_stream_with_its_spare_bits_set_is_refused() -> None:
    # Inflating ignores the bits after the last block: setting one gives another text,
    # often one character away, for the same code. Codes of several ids, since where the
    # last block ends depends on the bytes.
    refused = 0
    for n in range(40):
        text = sign_code({**CLAIMS, 7: bytes([n]) * 16}, KEY, prefix=PREFIX)
        compressed = b45decode(text[len(PREFIX):])
        assert read_code(text, prefix=PREFIX).kid == KEY.kid
        changed = _with_spare_bit_set(compressed)
        if changed is not None:
            assert _reason(read_code, PREFIX + b45encode(changed), prefix=PREFIX) == \
                "bad_compression"
            refused += 1
    assert refused > 10


@pytest.mark.parametrize("header", [b"\x68\x81", b"\x58\x85", b"\x78\xbb"])
def test_a_zlib_header_with_another_window_or_a_dictionary_is_refused(header: bytes) -> None:
    assert int.from_bytes(header, "big") % 31 == 0  # a well-formed header
    compressed = b45decode(sign_code(CLAIMS, KEY, prefix=PREFIX)[len(PREFIX):])
    assert _reason(read_code, PREFIX + b45encode(header + compressed[2:]),
                   prefix=PREFIX) == "bad_compression"


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_deflate_at_any_level_is_read(level: int) -> None:
    text = PREFIX + b45encode(zlib.compress(_message(), level))
    assert verify_code(read_code(text, prefix=PREFIX), KEY.public) == CLAIMS
