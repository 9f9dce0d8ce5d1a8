"""Officer accounts in the border database: argon2id secrets, roles, lockout.

A secret (PIN or password) is stored only as an argon2id PHC string. Repeated
failures lock the account for a while; a disabled account never signs in. The
same answer ("invalid_credentials") is given for an unknown id and a wrong
secret, so the sign-in screen does not reveal which officer ids exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiosk.clock import Clock, as_utc
from kiosk.supervisor.settings import StationSettings
from kiosk.supervisor.tables import officers

Role = Literal["officer", "supervisor", "maintenance"]
ROLES: tuple[Role, ...] = ("officer", "supervisor", "maintenance")
MIN_SECRET = 4


class OfficerError(Exception):
    """An account operation or sign-in was refused; `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Officer:
    officer_id: str
    name: str
    role: Role
    port: str | None
    disabled: bool = False
    failed_attempts: int = 0
    locked_until: datetime | None = None
    last_sign_in: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "officer_id": self.officer_id,
            "name": self.name,
            "role": self.role,
            "port": self.port,
            "disabled": self.disabled,
            "failed_attempts": self.failed_attempts,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
            "last_sign_in": self.last_sign_in.isoformat() if self.last_sign_in else None,
        }


def _officer(row: Any) -> Officer:
    return Officer(
        officer_id=row.officer_id,
        name=row.name,
        role=row.role,
        port=row.port,
        disabled=bool(row.disabled),
        failed_attempts=int(row.failed_attempts),
        locked_until=row.locked_until,
        last_sign_in=row.last_sign_in,
    )


def check_officer_id(officer_id: str) -> str:
    cleaned = officer_id.strip()
    if not cleaned or len(cleaned) > 32 or not cleaned.replace("-", "").isalnum():
        raise OfficerError(
            "invalid_officer_id", f"{officer_id!r} is not an officer id (1-32 letters, digits or -)"
        )
    return cleaned


class OfficerDirectory:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        settings: StationSettings | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings or StationSettings()
        # argon2-cffi's defaults are argon2id with the RFC 9106 low-memory profile.
        self.hasher = hasher or PasswordHasher()

    # -- management -------------------------------------------------------------------
    def add(
        self, officer_id: str, name: str, role: str, secret: str, port: str | None = None
    ) -> Officer:
        officer_id = check_officer_id(officer_id)
        if role not in ROLES:
            raise OfficerError("invalid_role", f"{role!r} is not one of {', '.join(ROLES)}")
        if len(secret) < MIN_SECRET:
            raise OfficerError("weak_secret", f"a PIN or password needs {MIN_SECRET}+ characters")
        if port is not None and (len(port) != 3 or not port.isalpha()):
            raise OfficerError("invalid_port", f"{port!r} is not a three-letter IATA code")
        row = {
            "officer_id": officer_id,
            "name": name.strip() or officer_id,
            "role": role,
            "port": port.upper() if port else None,
            "secret_hash": self.hasher.hash(secret),
            "disabled": False,
            "failed_attempts": 0,
            "created_at": self.clock.now(),
        }
        try:
            with self.engine.begin() as c:
                c.execute(insert(officers), row)
        except IntegrityError as exc:
            raise OfficerError("officer_exists", f"officer {officer_id!r} already exists") from exc
        return self.get(officer_id)

    def disable(self, officer_id: str) -> Officer:
        with self.engine.begin() as c:
            done = c.execute(
                update(officers).where(officers.c.officer_id == officer_id).values(disabled=True)
            ).rowcount
        if not done:
            raise OfficerError("unknown_officer", f"no officer {officer_id!r}")
        return self.get(officer_id)

    def get(self, officer_id: str) -> Officer:
        with self.engine.connect() as c:
            row = c.execute(select(officers).where(officers.c.officer_id == officer_id)).first()
        if row is None:
            raise OfficerError("unknown_officer", f"no officer {officer_id!r}")
        return _officer(row)

    def list(self) -> list[Officer]:
        with self.engine.connect() as c:
            rows = c.execute(select(officers).order_by(officers.c.officer_id)).all()
        return [_officer(r) for r in rows]

    # -- sign-in ----------------------------------------------------------------------
    def authenticate(self, officer_id: str, secret: str) -> Officer:
        """The officer when `secret` is right; OfficerError otherwise (codes
        invalid_credentials, locked, disabled). Failures are counted; the
        account locks for lockout_s after max_failed_sign_ins in a row."""
        now = as_utc(self.clock.now())
        with self.engine.begin() as c:
            row = c.execute(
                select(officers).where(officers.c.officer_id == officer_id.strip())
            ).first()
            if row is None:
                # Same work as a real check, so timing does not tell ids apart.
                self._dummy_verify(secret)
                raise OfficerError("invalid_credentials", "unknown officer id or wrong PIN")
            if row.disabled:
                raise OfficerError("disabled", "this account is disabled")
            if row.locked_until is not None and as_utc(row.locked_until) > now:
                raise OfficerError(
                    "locked", f"too many failed attempts; locked until {row.locked_until:%H:%M}"
                )
            where = officers.c.officer_id == row.officer_id
            if self._verify(row.secret_hash, secret):
                c.execute(
                    update(officers)
                    .where(where)
                    .values(failed_attempts=0, locked_until=None, last_sign_in=now)
                )
                return _officer(row)
            failures = int(row.failed_attempts) + 1
            locked = failures >= self.settings.max_failed_sign_ins
            values: dict[str, Any] = {"failed_attempts": failures}
            if locked:
                until = now + timedelta(seconds=self.settings.lockout_s)
                values = {"failed_attempts": 0, "locked_until": until}
            c.execute(update(officers).where(where).values(**values))
        # The failure is committed before it is reported.
        if locked:
            raise OfficerError("locked", "too many failed attempts; the account is locked")
        raise OfficerError("invalid_credentials", "unknown officer id or wrong PIN")

    def _verify(self, phc: str, secret: str) -> bool:
        try:
            return bool(self.hasher.verify(phc, secret))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _dummy_verify(self, secret: str) -> None:
        if not hasattr(self, "_dummy"):
            self._dummy = self.hasher.hash("not-an-officer")
        self._verify(self._dummy, secret)
