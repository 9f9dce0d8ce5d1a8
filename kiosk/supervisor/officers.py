"""Officer accounts in the border database: ids, roles, ports, secrets.

Managed by the admin role (`egate officers`). A secret is stored only as an
argon2id salt, its parameters and SHA-256 of the derived proof
(kiosk.supervisor.secrets), in columns no client role reads; sign-in and its
failure count happen in the border (kiosk.supervisor.officer_ops).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiosk.border.station_tables import officers
from kiosk.clock import Clock
from kiosk.errors import CodedError
from kiosk.supervisor import secrets
from kiosk.supervisor.secrets import (
    SecretError,
    check_secret_policy,
    new_secret,
    normalise_officer_id,
)
from kiosk.supervisor.settings import StationSettings

Role = Literal["officer", "supervisor", "maintenance"]
ROLES: tuple[Role, ...] = ("officer", "supervisor", "maintenance")
# What a client role may read of an account (never the secret columns).
PUBLIC_COLUMNS = (
    officers.c.officer_id, officers.c.name, officers.c.role, officers.c.port,
    officers.c.disabled, officers.c.failed_attempts, officers.c.locked_until,
    officers.c.last_sign_in,
)  # fmt: skip


class OfficerError(CodedError):
    """An account operation or sign-in was refused; `code` is stable."""


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
    try:
        return normalise_officer_id(officer_id)
    except SecretError as exc:
        raise OfficerError(exc.code, str(exc)) from exc


class OfficerDirectory:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        settings: StationSettings | None = None,
        params: str | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings or StationSettings()
        # argon2id parameters for new secrets (RFC 9106 low-memory profile by default).
        self.params = params or secrets.DEFAULT_PARAMS

    def add(
        self,
        officer_id: str,
        name: str,
        role: str,
        secret: str,
        port: str | None = None,
        replace: bool = False,
    ) -> Officer:
        """A new account (or, with `replace`, a new secret, role and port for an existing
        one, enabled and unlocked: how accounts disabled by b0004o come back)."""
        officer_id = check_officer_id(officer_id)
        if role not in ROLES:
            raise OfficerError("invalid_role", f"{role!r} is not one of {', '.join(ROLES)}")
        try:
            check_secret_policy(secret, role)
        except SecretError as exc:
            raise OfficerError(exc.code, str(exc)) from exc
        if port is not None and (len(port) != 3 or not port.isascii() or not port.isalpha()):
            raise OfficerError("invalid_port", f"{port!r} is not a three-letter IATA code")
        if role == "maintenance" and port is None:
            raise OfficerError("port_required", "a maintenance account serves one port: --port")
        stored = new_secret(secret, self.params)
        row = {
            "name": name.strip()[:120] or officer_id,
            "role": role,
            "port": port.upper() if port else None,
            "secret_salt": stored.salt,
            "secret_params": stored.params,
            "secret_check": stored.check,
            "disabled": False,
            "failed_attempts": 0,
        }
        try:
            with self.engine.begin() as c:
                c.execute(insert(officers), {**row, "officer_id": officer_id,
                                             "created_at": self.clock.now()})  # fmt: skip
        except IntegrityError as exc:
            if not replace:
                raise OfficerError(
                    "officer_exists", f"officer {officer_id!r} already exists (--replace)"
                ) from exc
            with self.engine.begin() as c:
                c.execute(
                    update(officers).where(officers.c.officer_id == officer_id)
                    .values(**row, locked_until=None)
                )  # fmt: skip
        return self.get(officer_id)

    def disable(self, officer_id: str) -> Officer:
        officer_id = check_officer_id(officer_id)
        with self.engine.begin() as c:
            done = c.execute(
                update(officers).where(officers.c.officer_id == officer_id).values(disabled=True)
            ).rowcount
        if not done:
            raise OfficerError("unknown_officer", f"no officer {officer_id!r}")
        return self.get(officer_id)

    def get(self, officer_id: str) -> Officer:
        with self.engine.connect() as c:
            row = c.execute(
                select(*PUBLIC_COLUMNS).where(officers.c.officer_id == officer_id)
            ).first()
        if row is None:
            raise OfficerError("unknown_officer", f"no officer {officer_id!r}")
        return _officer(row)

    def list(self) -> list[Officer]:
        with self.engine.connect() as c:
            rows = c.execute(select(*PUBLIC_COLUMNS).order_by(officers.c.officer_id)).all()
        return [_officer(r) for r in rows]
