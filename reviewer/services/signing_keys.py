"""Passphrase hashing, talent signing keys and how a private key is kept sealed.

A talent's Ed25519 private key never touches disk in the clear: its 32-byte seed is sealed
with AES-256-GCM under a key derived from the profile's passphrase with Argon2id (the same
memory-hard function that hashes the passphrase, with its own salt). The sealed blob names
its KDF parameters, so raising them later does not break old blobs.

``REVIEWER_INSECURE_TEST_KDF=1`` lowers the Argon2 cost to almost nothing. Only the test
suite sets it, to keep hundreds of sign-ins fast; never set it for a real library.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reviewer.domain.receipt import key_fingerprint

SEALED_KEY_FORMAT = "reviewer.sealed-key/1"
TEST_KDF_VARIABLE = "REVIEWER_INSECURE_TEST_KDF"


@dataclass(frozen=True, slots=True)
class KdfCost:
    time_cost: int
    memory_cost: int  # KiB
    parallelism: int


# RFC 9106's second recommended option (argon2-cffi's default): 64 MiB, 3 passes, 4 lanes.
DEFAULT_COST = KdfCost(time_cost=3, memory_cost=64 * 1024, parallelism=4)
_TEST_COST = KdfCost(time_cost=1, memory_cost=64, parallelism=1)


def kdf_cost() -> KdfCost:
    return _TEST_COST if os.environ.get(TEST_KDF_VARIABLE) == "1" else DEFAULT_COST


class WrongPassphrase(Exception):
    pass


def password_hasher(cost: KdfCost | None = None) -> PasswordHasher:
    cost = cost or kdf_cost()
    return PasswordHasher(
        time_cost=cost.time_cost,
        memory_cost=cost.memory_cost,
        parallelism=cost.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_passphrase(passphrase: str) -> str:
    return password_hasher().hash(passphrase)


def check_passphrase(stored_hash: str, passphrase: str) -> None:
    """Raise :class:`WrongPassphrase` unless *passphrase* matches *stored_hash*."""
    try:
        password_hasher().verify(stored_hash, passphrase)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise WrongPassphrase from None


def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes_raw()


def _derive(passphrase: str, salt: bytes, cost: KdfCost) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=cost.time_cost,
        memory_cost=cost.memory_cost,
        parallelism=cost.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def seal_private_key(key: Ed25519PrivateKey, passphrase: str) -> str:
    """The sealed form of *key* (a JSON text) that only *passphrase* opens."""
    cost = kdf_cost()
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    fingerprint = key_fingerprint(public_key_bytes(key))
    ciphertext = AESGCM(_derive(passphrase, salt, cost)).encrypt(
        nonce, key.private_bytes_raw(), _associated_data(fingerprint)
    )
    return json.dumps(
        {
            "format": SEALED_KEY_FORMAT,
            "kdf": "argon2id",
            "time_cost": cost.time_cost,
            "memory_cost": cost.memory_cost,
            "parallelism": cost.parallelism,
            "salt": salt.hex(),
            "cipher": "aes-256-gcm",
            "nonce": nonce.hex(),
            "ciphertext": ciphertext.hex(),
            "fingerprint": fingerprint,
        },
        sort_keys=True,
    )


def open_sealed_key(sealed: str, passphrase: str) -> Ed25519PrivateKey:
    """The private key in *sealed*; :class:`WrongPassphrase` when the passphrase is not it."""
    blob = json.loads(sealed)
    if blob.get("format") != SEALED_KEY_FORMAT:
        raise ValueError("unknown sealed-key format")
    cost = KdfCost(blob["time_cost"], blob["memory_cost"], blob["parallelism"])
    try:
        seed = AESGCM(_derive(passphrase, bytes.fromhex(blob["salt"]), cost)).decrypt(
            bytes.fromhex(blob["nonce"]),
            bytes.fromhex(blob["ciphertext"]),
            _associated_data(blob["fingerprint"]),
        )
    except InvalidTag:
        raise WrongPassphrase from None
    key = Ed25519PrivateKey.from_private_bytes(seed)
    if key_fingerprint(public_key_bytes(key)) != blob["fingerprint"]:
        raise ValueError("sealed key does not match its recorded fingerprint")
    return key


def _associated_data(fingerprint: str) -> bytes:
    # Binds the ciphertext to the key it claims to hold: a blob swapped between talents fails.
    return f"{SEALED_KEY_FORMAT}|{fingerprint}".encode()


def signature_is_valid(public_key: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True
