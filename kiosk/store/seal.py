"""The kiosk's log key and the seals it makes over the event log's hash chain.

The SHA-256 chain alone shows that rows were changed, but whoever can write the
database file can also recompute it. A seal is HMAC-SHA256 (RFC 2104) keyed
with a per-kiosk secret kept in its own file, outside the database: a chain
rewritten without the key no longer matches its seals, with or without the
border database at hand.

The key file holds 64 hex digits (32 random bytes) and must be readable by its
owner only (mode 0600); it is created once, at enrolment (`egate log enrol`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from kiosk.safe_files import read_input

KEY_BYTES = 32
_DOMAIN = b"egate-log-seal-v1"


class LogKeyError(Exception):
    """The log key file is missing, malformed, or readable by others."""


class LogSealer:
    """Seals (kiosk id, seq, chain hash) with one kiosk's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise LogKeyError(f"a log key has {KEY_BYTES} bytes, got {len(key)}")
        self._key = key

    def seal(self, kiosk_id: str, seq: int, chain_hash: str) -> str:
        message = b"|".join((_DOMAIN, kiosk_id.encode(), str(seq).encode(), chain_hash.encode()))
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def check(self, kiosk_id: str, seq: int, chain_hash: str, mac: str) -> bool:
        return hmac.compare_digest(self.seal(kiosk_id, seq, chain_hash), mac)


def create_key(path: Path) -> LogSealer:
    """Write a new random key to `path` (mode 0600); refuses to replace one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise LogKeyError(f"{path} exists; a kiosk keeps the key it was enrolled with") from exc
    except OSError as exc:
        raise LogKeyError(f"cannot create {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return LogSealer(key)


def load_key(path: Path) -> LogSealer:
    """The sealer of the key in `path`; LogKeyError when it is unusable."""
    if not path.exists():
        raise LogKeyError(f"no log key at {path} (run `egate log enrol`)")
    try:  # a regular file checked on the open descriptor, a bounded read (no FIFO hang)
        text = read_input(path, 4096).decode("ascii").strip()
        info = path.stat()
    except (OSError, UnicodeDecodeError) as exc:
        raise LogKeyError(f"cannot read the log key {exc}") from exc
    if info.st_mode & 0o077:
        raise LogKeyError(
            f"{path} is readable by others (mode {stat.S_IMODE(info.st_mode):04o}); chmod 600"
        )
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise LogKeyError(f"{path} does not hold a hex key") from exc
    return LogSealer(key)


def optional_key(path: Path) -> LogSealer | None:
    """The sealer when a key was provisioned at `path`, else None (not enrolled)."""
    if not path.exists():
        return None
    return load_key(path)
