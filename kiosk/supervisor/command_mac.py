"""The authenticity of an officer command: HMAC-SHA256 with the kiosk's command key.

The border's issuing function (migration b0004o, border__issue) computes the MAC
over the command's canonical fields; the kiosk recomputes it with its own copy of
the key (a file beside its log key, written at enrolment) and carries out nothing
whose MAC does not match, whose kiosk is not its own or whose expiry has passed.
Whoever can only write the `commands` table cannot make a MAC.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

from kiosk.safe_files import write_output

KEY_BYTES = 32
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CommandFields:
    command_id: uuid.UUID
    kiosk_id: str
    kind: str
    referral_id: uuid.UUID | None
    officer_id: str
    second_officer_id: str | None
    reason_code: str
    issued_at: datetime
    expires_at: datetime


def _micros(at: datetime) -> str:
    delta = at.astimezone(UTC) - EPOCH
    return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def canonical(f: CommandFields) -> bytes:
    """The exact text border__issue signs (keep the two in step)."""
    return "\n".join([
        "egate-command-v1", str(f.command_id), f.kiosk_id, f.kind,
        str(f.referral_id) if f.referral_id else "", f.officer_id, f.second_officer_id or "",
        f.reason_code, _micros(f.issued_at), _micros(f.expires_at),
    ]).encode()  # fmt: skip


def sign(key: bytes, fields: CommandFields) -> str:
    return hmac.new(key, canonical(fields), sha256).hexdigest()


def verify(key: bytes, fields: CommandFields, mac: str | None) -> bool:
    return mac is not None and hmac.compare_digest(sign(key, fields), mac)


def read_key(path: Path) -> bytes | None:
    """The kiosk's command key, or None when it has none (it then executes nothing)."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path}: a command key is {KEY_BYTES} bytes, not {len(key)}")
    return key


def write_key(path: Path, key: bytes) -> None:
    """Owner-only file, written atomically through the one checked writer: a path that is
    a device, a link or under /dev is refused (a rename onto /dev/null would replace the
    device node for the whole machine)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_output(path, key, mode=0o600)
