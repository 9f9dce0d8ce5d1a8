"""Officer ids and secrets: normalisation, the secret policy and the argon2id proof.

The border never sees a secret and never hands out a hash. The station derives
proof = argon2id(secret, salt) with the account's salt and parameters (asked for
with border_officer_challenge) and sends the proof; the border stores only
SHA-256(proof) in a column no client role reads, and compares in its sign-in
function under the account's row lock. A stolen `secret_check` still needs an
argon2id search of the secret space to be of use.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

from kiosk.errors import CodedError

# RFC 9106 second recommended (low-memory) profile: argon2id, t=3, m=64 MiB, p=4.
DEFAULT_PARAMS = "argon2id$v=19$m=65536,t=3,p=4"
CHEAP_PARAMS = "argon2id$v=19$m=1024,t=1,p=1"  # tests only
_PARAMS = re.compile(r"^argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,2}),p=(\d{1,2})$")
_OFFICER_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
MIN_SECRET = 10
PRIVILEGED = ("officer", "supervisor")  # may admit a traveller


class SecretError(CodedError, ValueError):
    """Still a ValueError: callers that reject bad input catch it as one."""


def normalise_officer_id(raw: str) -> str:
    """NFKC, trimmed, upper-case ASCII letters, digits and '-'. Full-width forms fold
    to ASCII ("Ａ１" -> "A1"); anything still outside the set (Cyrillic or Greek
    look-alikes, markup, spaces, controls) is refused, never silently dropped."""
    folded = unicodedata.normalize("NFKC", raw).strip().upper()
    if not _OFFICER_ID.match(folded):
        raise SecretError(
            "invalid_officer_id",
            f"{raw!r} is not an officer id (1-32 ASCII letters, digits or '-', starting "
            "with a letter or digit)",
        )
    return folded


def check_secret_policy(secret: str, role: str) -> None:
    """At least MIN_SECRET characters for every role; officers and supervisors (who can
    admit a traveller) may not use an all-digit secret (a PIN falls to a guess of the
    10**n space once the lockout's window is multiplied by accounts and time)."""
    if len(secret) < MIN_SECRET:
        raise SecretError("weak_secret", f"a secret needs at least {MIN_SECRET} characters")
    if role in PRIVILEGED and secret.isdigit():
        raise SecretError("weak_secret", f"a {role} secret may not be digits only")
    if len(set(secret)) < 4:
        raise SecretError("weak_secret", "a secret needs at least 4 different characters")


def derive(secret: str, salt: bytes, params: str) -> bytes:
    """The 32-byte argon2id proof of `secret` for an account (or a made-up one)."""
    m = _PARAMS.match(params)
    if m is None:
        raise SecretError("invalid_params", f"unsupported secret parameters {params!r}")
    memory, time_cost, lanes = (int(g) for g in m.groups())
    return hash_secret_raw(
        secret.encode(), salt, time_cost=time_cost, memory_cost=memory, parallelism=lanes,
        hash_len=32, type=Type.ID,
    )  # fmt: skip


@dataclass(frozen=True)
class StoredSecret:
    salt: bytes
    params: str
    check: bytes  # SHA-256 of the proof


def new_secret(secret: str, params: str = DEFAULT_PARAMS) -> StoredSecret:
    salt = os.urandom(16)
    return StoredSecret(salt, params, hashlib.sha256(derive(secret, salt, params)).digest())
