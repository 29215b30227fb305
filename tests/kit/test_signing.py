"""The signing recipes: round trips, and every failure a SigningError with its reason."""

from __future__ import annotations

import base64
import dataclasses
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base45
import cbor2
import cwt
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from borderpass.kit import signing
from borderpass.kit.config import get_settings, reset_settings
from borderpass.kit.signing import (
    DetachedSigner,
    SigningError,
    SigningKey,
    VerifyKey,
    blind_index,
    check_secret,
    decrypt_code,
    derived_secret,
    encrypt_code,
    exposure_token,
    hash_secret,
    open_envelope,
    open_sealed,
    read_chip,
    read_code,
    seal,
    sign_chip,
    sign_code,
    sign_envelope,
    venue_signer,
    verify_code,
    verify_detached,
)

# Private on purpose: the base45 codec is checked against the reference package, and a
# few malformed messages are made with the COSE internals.
from borderpass.kit.signing._base45 import b45decode, b45encode
from borderpass.kit.signing._cose import cbor_encode, sign1
from borderpass.kit.signing._native import ecdsa_der

PREFIX = "TEST1:"
CLAIMS = {1: "HK", 4: 1_800_000_000, 7: b"\x01" * 16, -65537: {"v": 1, "c": "green"}}
KEY = SigningKey.generate()


def _reason(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(SigningError) as caught:
        call(*args, **kwargs)
    return caught.value.reason


def test_the_public_names_are_a_few_recipes() -> None:
    assert len(signing.__all__) <= 25
    assert all(not name.startswith("_") for name in signing.__all__)
    for gone in ("cbor_encode", "es256_sign", "sign1", "open_sign1", "CoseError",
                 "EnvelopeError", "SealError", "SignatureInvalid", "unseal"):
        assert not hasattr(signing, gone)


# --------------------------------------------------------------------------- keys


def test_keys_load_from_pem_and_base64_under_one_key_id() -> None:
    again = SigningKey.from_pem(KEY.to_pem())
    assert again.kid == KEY.kid and len(KEY.kid) == 8
    assert VerifyKey.from_pem(KEY.public.to_pem()).kid == KEY.kid
    assert VerifyKey.from_pem(KEY.to_pem()).to_pem() == KEY.public.to_pem()
    assert VerifyKey.from_b64(KEY.public.to_b64()).kid == KEY.kid


@pytest.mark.parametrize("text", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAA==\n"])
def test_a_bad_key_is_refused(text: bytes) -> None:
    assert _reason(SigningKey.from_pem, text) == "bad_key"
    assert _reason(VerifyKey.from_pem, text) == "bad_key"
    assert _reason(VerifyKey.from_b64, text.decode()) == "bad_key"


def test_a_key_of_another_curve_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP384R1())
    pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    assert _reason(SigningKey.from_pem, pem) == "bad_key"
    assert _reason(VerifyKey.from_pem, pem) == "bad_key"


# --------------------------------------------------------------------------- signed codes


def test_a_signed_code_round_trips() -> None:
    text = sign_code(CLAIMS, KEY, prefix=PREFIX)
    assert text.startswith(PREFIX)
    code = read_code(text, prefix=PREFIX)
    assert code.kid == KEY.kid
    assert verify_code(code, KEY.public) == CLAIMS
    assert cbor2.loads(code.payload) == CLAIMS


def test_deterministic_signing_gives_equal_codes() -> None:
    assert sign_code(CLAIMS, KEY, prefix=PREFIX, deterministic=True) == \
        sign_code(CLAIMS, KEY, prefix=PREFIX, deterministic=True)


def test_a_signed_code_verifies_with_the_cwt_library() -> None:
    message = zlib.decompress(base45.b45decode(sign_code(CLAIMS, KEY, prefix=PREFIX)[6:]))
    public = cwt.COSEKey.from_pem(KEY.public.to_pem(), alg="ES256", kid=KEY.kid)
    assert cbor2.loads(cwt.COSE.new().decode(message, public)) == CLAIMS


def test_a_code_under_another_key_or_altered_does_not_verify() -> None:
    text = sign_code(CLAIMS, KEY, prefix=PREFIX)
    assert _reason(verify_code, read_code(text, prefix=PREFIX),
                   SigningKey.generate().public) == "bad_signature"
    message = zlib.decompress(base45.b45decode(text[len(PREFIX):]))
    altered = message.replace(b"green", b"amber")
    forged = PREFIX + b45encode(zlib.compress(altered))
    assert _reason(verify_code, read_code(forged, prefix=PREFIX), KEY.public) == "bad_signature"


def _wrap(message: bytes) -> str:
    return PREFIX + b45encode(zlib.compress(message))


@pytest.mark.parametrize(("text", "reason"), [
    ("OTHER:" + b45encode(b"x"), "bad_prefix"),
    (PREFIX + "abc", "bad_base45"),
    (PREFIX + "ZZZ", "bad_base45"),
    (PREFIX + b45encode(b"not zlib"), "bad_compression"),
    (PREFIX + b45encode(zlib.compress(b"x" * 9000)), "bad_compression"),
    (_wrap(b"\x18"), "bad_cose"),
    (_wrap(cbor_encode([1, 2, 3])), "bad_cose"),
    (_wrap(cbor_encode(cbor2.CBORTag(18, [cbor_encode({1: -7}), {}, b"", b""]))), "bad_cose"),
    (_wrap(cbor_encode(cbor2.CBORTag(18, [cbor_encode({1: -35, 4: b"k"}), {}, b"", b""]))),
     "unsupported_algorithm"),
])
def test_a_malformed_code_says_why(text: str, reason: str) -> None:
    assert _reason(read_code, text, prefix=PREFIX) == reason


def test_a_signed_payload_that_is_not_cbor_gives_bad_claims() -> None:
    code = read_code(_wrap(sign1(b"\x18", KEY)), prefix=PREFIX)  # a truncated item
    assert _reason(verify_code, code, KEY.public) == "bad_claims"


# --------------------------------------------------------------------------- encrypted codes


def test_an_encrypted_code_round_trips_for_its_recipient_only() -> None:
    gates, device = SigningKey.generate(), SigningKey.generate()
    text = encrypt_code(CLAIMS, device, gates.public, prefix=PREFIX)
    code = decrypt_code(text, gates, prefix=PREFIX)
    assert code.kid == device.kid
    assert verify_code(code, device.public) == CLAIMS
    assert _reason(verify_code, code, gates.public) == "bad_signature"
    assert _reason(decrypt_code, text, SigningKey.generate(), prefix=PREFIX) == "undecryptable"
    assert _reason(decrypt_code, "X" + text, gates, prefix=PREFIX) == "bad_prefix"
    assert _reason(decrypt_code, text + "a", gates, prefix=PREFIX) == "bad_base45"
    assert decrypt_code(text + "\n", gates, prefix=PREFIX).kid == device.kid


def test_a_device_that_claims_another_key_id_does_not_verify() -> None:
    gates, device, other = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    impostor = dataclasses.replace(other, kid=device.kid)
    code = decrypt_code(encrypt_code(CLAIMS, impostor, gates.public, prefix=PREFIX), gates,
                        prefix=PREFIX)
    assert code.kid == device.kid
    assert _reason(verify_code, code, device.public) == "bad_signature"


# --------------------------------------------------------------------------- envelopes


def test_an_envelope_round_trips_and_pins_its_anchor() -> None:
    envelope = sign_envelope(b'{"type":"x"}', KEY)
    assert envelope["kid"] == KEY.kid.hex() and envelope["alg"] == "ES256"
    assert open_envelope(envelope) == (b'{"type":"x"}', KEY.kid.hex())
    assert open_envelope(envelope, anchor=KEY.kid.hex().upper())[1] == KEY.kid.hex()
    assert _reason(open_envelope, envelope, anchor="00" * 8) == "wrong_anchor"


def test_an_altered_or_unreadable_envelope_is_refused() -> None:
    envelope = sign_envelope(b"payload", KEY)
    other = sign_envelope(b"other", KEY)
    assert _reason(open_envelope, {**envelope, "payload": other["payload"]}) == "bad_signature"
    stranger = SigningKey.generate()
    assert _reason(open_envelope, {**envelope, "key": stranger.public.to_b64(),
                                   "kid": stranger.kid.hex()}) == "bad_signature"
    assert _reason(open_envelope, {**envelope, "kid": "00" * 8}) == "bad_envelope"
    assert _reason(open_envelope, {**envelope, "alg": "none"}) == "bad_envelope"
    assert _reason(open_envelope, {**envelope, "key": "!"}) == "bad_envelope"
    assert _reason(open_envelope, {"alg": "ES256"}) == "bad_envelope"
    assert _reason(open_envelope, [envelope]) == "bad_envelope"


# --------------------------------------------------------------------------- identity cards


DETAILS = {"kind": "hkid", "number": "A1234563", "born": "1980-05-04"}


def test_a_chip_reads_back_under_a_trusted_authority() -> None:
    chip = read_chip(sign_chip(DETAILS, b"photo", KEY), {KEY.kid: KEY.public})
    assert (chip.details, chip.photo, chip.authority) == (DETAILS, b"photo", KEY.kid)


def test_a_chip_security_object_verifies_with_the_cwt_library() -> None:
    sod = cbor2.loads(sign_chip(DETAILS, b"photo", KEY))["sod"]
    public = cwt.COSEKey.from_pem(KEY.public.to_pem(), alg="ES256", kid=KEY.kid)
    assert cbor2.loads(cwt.COSE.new().decode(sod, public))["alg"] == "sha-256"


def test_a_chip_that_was_changed_or_signed_by_a_stranger_is_refused() -> None:
    trusted = {KEY.kid: KEY.public}
    content = cbor2.loads(sign_chip(DETAILS, b"photo", KEY))

    def rewritten(**changes: object) -> bytes:
        return cbor2.dumps({**content, **changes}, canonical=True)

    assert _reason(read_chip, rewritten(dg2=b"other"), trusted) == "data_altered"
    assert _reason(read_chip, rewritten(dg1=cbor2.dumps({**DETAILS, "born": "2000-01-01"})),
                   trusted) == "data_altered"
    assert _reason(read_chip, rewritten(v=2), trusted) == "malformed"
    assert _reason(read_chip, b"\xff", trusted) == "malformed"
    stranger = SigningKey.generate()
    assert _reason(read_chip, sign_chip(DETAILS, b"photo", stranger), trusted) == "unknown_key"
    impostor = dataclasses.replace(stranger, kid=KEY.kid)
    assert _reason(read_chip, sign_chip(DETAILS, b"photo", impostor), trusted) == "bad_signature"


# --------------------------------------------------------------------------- check-in


def test_a_detached_signature_verifies_only_for_its_text_and_key() -> None:
    signer = DetachedSigner(bytes(range(32)))
    signature = signer.sign(b"text")
    assert signature == signer.sign(b"text") and len(signature) == 64
    verify_detached(signer.public, b"text", signature)
    assert _reason(verify_detached, signer.public, b"texT", signature) == "bad_signature"
    other = DetachedSigner.generate()
    assert _reason(verify_detached, other.public, b"text", signature) == "bad_signature"
    assert _reason(verify_detached, b"short", b"text", signature) == "bad_signature"
    assert len(signer.key_id) == 8 and signer.key_id != other.key_id
    assert _reason(DetachedSigner, b"short") == "bad_key"
    assert repr(signer) == "DetachedSigner()"  # the seed stays out of logs


def test_the_venue_signer_is_the_settings_key() -> None:
    seed = get_settings().secret_bytes("venue_signing_key")
    assert venue_signer().public == DetachedSigner(seed).public


def test_exposure_tokens_and_derived_secrets() -> None:
    secret = bytes(16)
    assert len(exposure_token(secret, 1)) == 16
    assert exposure_token(secret, 1) != exposure_token(secret, 2)
    assert derived_secret("HKEN", "WHBvLDSa") != derived_secret("TAXI", "WHBvLDSa")
    assert len(derived_secret("TAXI", "AB1234")) == 16


# --------------------------------------------------------------------------- personal data


@contextmanager
def _other_keys() -> Iterator[None]:
    fresh = base64.urlsafe_b64encode(bytes(range(32))).decode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BORDERPASS_PII_KEY", fresh)
        patch.setenv("BORDERPASS_BLIND_INDEX_KEY", fresh)
        reset_settings()
        try:
            yield
        finally:
            patch.undo()
            reset_settings()


def test_sealed_data_opens_only_with_its_context_and_key() -> None:
    sealed = seal(b"A1234563", context="person.doc_number")
    assert b"A1234563" not in sealed
    assert open_sealed(sealed, context="person.doc_number") == b"A1234563"
    assert seal(b"x", context="c") != seal(b"x", context="c")  # a fresh nonce each time
    assert _reason(open_sealed, sealed, context="person.phone") == "unsealable"
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert _reason(open_sealed, altered, context="person.doc_number") == "unsealable"
    assert _reason(open_sealed, b"\x01short", context="person.doc_number") == "not_sealed"
    assert _reason(open_sealed, b"\x02" + sealed[1:], context="person.doc_number") == \
        "not_sealed"
    with _other_keys():
        assert _reason(open_sealed, sealed, context="person.doc_number") == "unsealable"


def test_blind_indexes_depend_on_kind_value_and_key() -> None:
    index = blind_index("hkid", "A1234563")
    assert index == blind_index("hkid", "A1234563") and len(index) == 64
    assert index != blind_index("hrp", "A1234563")
    assert index != blind_index("hkid", "A1234564")
    with _other_keys():
        assert blind_index("hkid", "A1234563") != index


def test_passwords_and_pins_hash_and_check() -> None:
    stored = hash_secret("password-123")
    assert stored.startswith("scrypt:ln=10$") and "password-123" not in stored
    assert check_secret("password-123", stored)
    assert not check_secret("password-124", stored)
    assert hash_secret("password-123") != stored  # salted
    assert not check_secret("password-123", "bcrypt$00$00")
    assert not check_secret("password-123", "garbage")


def test_a_hash_is_checked_at_the_cost_it_was_made_with(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from borderpass.kit.config import get_settings

    # Made at the default cost (2**14), as every stored hash was before it could be set.
    salt = bytes(range(16))
    default = "scrypt$" + salt.hex() + "$" + hashlib.scrypt(
        b"password-123", salt=salt, n=2**14, r=8, p=1).hex()
    assert check_secret("password-123", default) and not check_secret("password-12", default)
    monkeypatch.setattr(get_settings(), "secret_hash_cost", 14)
    made = hash_secret("password-123")
    assert made.startswith("scrypt$") and check_secret("password-123", made)
    monkeypatch.setattr(get_settings(), "secret_hash_cost", 11)
    cheaper = hash_secret("password-123")
    assert cheaper.startswith("scrypt:ln=11$")
    assert check_secret("password-123", cheaper) and check_secret("password-123", made)
    # A cost outside 10 to 17, or not a number, is not checked (nor spent) at all.
    _, salt_hex, digest_hex = cheaper.split("$")
    for scheme in ("scrypt:ln=9", "scrypt:ln=18", "scrypt:ln=99999", "scrypt:ln=x",
                   "scrypt:ln=", "scrypt:ln=\u0661\u0661", "scrypt:ln=+11", "scrypt:11"):
        assert not check_secret("password-123", f"{scheme}${salt_hex}${digest_hex}"), scheme


# --------------------------------------------------------------------------- base45


@given(st.binary(max_size=200))
def test_base45_round_trip_matches_reference(data: bytes) -> None:
    assert b45encode(data) == base45.b45encode(data).decode()
    assert b45decode(b45encode(data)) == data


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=60)
       | st.sampled_from([":::", "GGW", "ZZ", "0", ":::00", "FGW", "FGV", "é", "abc", "\x00",
                          "\xff\xff\xff", "A\u4e2dB", "00\U0001f600", ""]))
def test_base45_decoder_agrees_with_reference_on_any_text(text: str) -> None:
    try:
        expected: bytes | None = base45.b45decode(text)
    except ValueError:
        expected = None
    try:
        ours: bytes | None = b45decode(text)
    except SigningError as error:
        assert error.reason == "bad_base45"
        ours = None
    assert ours == expected


def test_base45_decodes_long_text_and_refuses_a_bad_group_anywhere_in_it() -> None:
    data = bytes(range(256)) * 80 + b"\x01"  # 20,481 bytes: every value, an odd length
    text = b45encode(data)
    assert b45decode(text) == data == base45.b45decode(text)
    for at in (0, len(text) // 2 - len(text) // 2 % 3, len(text) - 5):
        spoilt = text[:at] + ":::" + text[at + 3:]  # 45^3 - 1 is past two bytes
        with pytest.raises(SigningError):
            b45decode(spoilt)
    with pytest.raises(SigningError):
        b45decode(text[:-2] + "::")  # a last pair past one byte


@given(st.integers(0, 2**256 - 1), st.integers(0, 2**256 - 1)
       | st.sampled_from([0, 1, 2**255, 2**248 - 1, 2**256 - 1, 0x80]))
def test_an_es256_signature_is_made_der_as_cryptography_makes_it(r: int, s: int) -> None:
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert ecdsa_der(raw) == encode_dss_signature(r, s)


def test_only_a_64_byte_signature_is_made_der() -> None:
    for wrong in (b"", bytes(63), bytes(65)):
        with pytest.raises(ValueError, match="64 bytes"):
            ecdsa_der(wrong)


def test_a_key_rotated_by_another_process_is_current_at_once(tmp_path: Path) -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    here = signing.KeyStore(tmp_path)  # what this process keeps
    first, made = here.signing_key("code", now=now)
    assert made and here.signing_key("code", now=now)[0].kid == first.kid
    elsewhere = signing.KeyStore(tmp_path)  # another process, on the same folder
    second = elsewhere.rotate("code", now=now, grace=timedelta(hours=1))
    assert second.kid != first.kid
    current, made = here.signing_key("code", now=now)
    assert current.kid == second.kid and not made
    assert [record.kid for record in here.records()] == [first.kid, second.kid]
    assert here.records()[0].retired_at == now
