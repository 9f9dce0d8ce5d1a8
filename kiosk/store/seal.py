"""The kiosk's log key and the seals it makes over the event log's hash chain.

The SHA-256 chain alone shows that rows were changed, but whoever can write the
database file can also recompute it. A seal is HMAC-SHA256 (RFC 2104) keyed
with a per-kiosk secret kept in its own file, outside the database: a chain
rewritten without the key no longer matches its seals, with or without the
border database at hand.

The key file holds 64 hex digits (32 random bytes) and must be readable by its
owner only (mode 0600), or, installed by the package, owned by root and
readable by the service's group (0640 in a root-owned directory the service
user cannot rewrite: docs/deployment.md); it is created once, at enrolment
(`egate log enrol`).

Once a log has seals, a missing or different key is fatal (kiosk.store.event_log
refuses to append, kiosk.store.verify reports it): deleting the key must not
turn a sealed log into an unsealed one that verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 32
_DOMAIN = b"egate-log-seal-v1"
_PROOF_DOMAIN = b"egate-log-key-proof-v1"
# A key file is 64 hex digits and a newline; anything larger is not one (and a
# device such as /dev/zero must not be read to its end).
_KEY_FILE_MAX = 256


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

    def proof(self, kiosk_id: str) -> str:
        """What the kiosk shows the border to say it holds the key it enrolled
        with: the border keeps only its SHA-256 (kiosk_logs.verifier), so the
        value itself is known to the key holder alone (docs/border.md)."""
        message = b"|".join((_PROOF_DOMAIN, kiosk_id.encode()))
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def verifier_of(proof: str) -> str:
    """The border's record of a proof (SHA-256 hex of its text)."""
    return hashlib.sha256(proof.encode()).hexdigest()


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
    """The sealer of the key in `path`; LogKeyError when it is unusable.

    The file's type and mode are checked on the open descriptor before any byte
    is read (O_NONBLOCK: a FIFO neither hangs nor passes), and the read is
    bounded."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise LogKeyError(f"no log key at {path} (run `egate log enrol`)") from exc
    except OSError as exc:
        raise LogKeyError(f"cannot open the log key {path}: {exc.strerror}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LogKeyError(f"{path} is not a regular file")
        _check_mode(path, info)
        data = os.read(fd, _KEY_FILE_MAX + 1)
    except OSError as exc:
        raise LogKeyError(f"cannot read the log key {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if len(data) > _KEY_FILE_MAX:
        raise LogKeyError(f"{path} is larger than a log key file")
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError) as exc:
        raise LogKeyError(f"{path} does not hold a hex key") from exc
    return LogSealer(key)


def _check_mode(path: Path, info: os.stat_result) -> None:
    """Owner-only (0600), or root's file readable by the service's group (0640):
    the package's layout, where the service user can read but not replace it."""
    mode = stat.S_IMODE(info.st_mode)
    forbidden = 0o037 if info.st_uid == 0 and os.geteuid() != 0 else 0o077
    if mode & forbidden:
        raise LogKeyError(
            f"{path} is readable by others (mode {mode:04o}); chmod 600"
            " (or root-owned 0640 for the service group)"
        )


def optional_key(path: Path) -> LogSealer | None:
    """The sealer when a key was provisioned at `path`, else None (not enrolled)."""
    if not path.exists():
        return None
    return load_key(path)
