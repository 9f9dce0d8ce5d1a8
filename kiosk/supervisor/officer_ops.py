"""Every officer action goes through here: sign-in and sign-out, resolving a case,
the second officer's confirmation, lane commands, verifying the officer log.

On PostgreSQL each is one call of a SECURITY DEFINER function (migration b0004o)
that checks the session, the role, the port, the referral's state and kiosk and
the two-officer rule, then writes the keyed officer log and the signed command in
one transaction; the station's role can do nothing else to those tables.
`LocalOfficerOps` is the same rules in Python for the single-user SQLite stand-in
(`egate supervisor --demo`), which has no roles and so no boundary to defend.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert, select, text, update

from kiosk.border.models import KioskAlert
from kiosk.border.station_tables import (
    commands,
    kiosk_command_keys,
    kiosk_status,
    officer_actions,
    officer_sessions,
    officers,
    referrals,
)
from kiosk.clock import Clock, as_utc
from kiosk.errors import CodedError
from kiosk.supervisor import command_mac
from kiosk.supervisor.audit import ActionRecord, append_action, verify_actions
from kiosk.supervisor.reasons import MIN_TYPED_REASON, needs_typed_reason
from kiosk.supervisor.secrets import DEFAULT_PARAMS, SecretError, derive, normalise_officer_id
from kiosk.supervisor.settings import StationSettings

CASE_ROLES = ("officer", "supervisor")
# Cases an admit of which needs two distinct officers.
TWO_OFFICER_REASONS = ("watchlist_hit", "chip_not_genuine")
COMMAND_TTL_S = 300.0


class OpsRefused(CodedError):
    """The border refused an action; `code` is stable (docs/supervisor.md)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, f"{code}: {detail}" if detail else code)
        self.detail = detail


@dataclass(frozen=True)
class SignedIn:
    token: bytes
    officer_id: str
    name: str
    role: str
    port: str | None


class OfficerOps(Protocol):
    def sign_in(self, officer_id: str, secret: str) -> SignedIn: ...
    def sign_out(self, token: bytes, why: str) -> None: ...
    def resolve(
        self, token: bytes, rid: uuid.UUID, action: str, reason: str, text_: str
    ) -> dict[str, Any]: ...
    def confirm(self, token: bytes, rid: uuid.UUID, second: str, secret: str) -> dict[str, Any]: ...
    def lane_command(
        self, token: bytes, kiosk: str, kind: str, reason: str, text_: str
    ) -> dict[str, Any]: ...
    def ack_alert(self, token: bytes, alert_id: int, text_: str) -> dict[str, Any]: ...
    def verify_log(self) -> dict[str, Any]: ...


def typed_id(raw: str) -> str:
    """The id as the border compares it; an id outside the allowed set is passed on
    trimmed so that the refusal is logged with what was typed."""
    try:
        return normalise_officer_id(raw)
    except SecretError:
        return raw.strip()[:32] or "-"


def officer_ops(engine: Engine, clock: Clock, settings: StationSettings) -> OfficerOps:
    if engine.dialect.name == "postgresql":
        return PgOfficerOps(engine)
    return LocalOfficerOps(engine, clock, settings)


def _answer(result: Any) -> dict[str, Any]:
    answer = dict(result) if not isinstance(result, str) else json.loads(result)
    if not answer.get("ok"):
        raise OpsRefused(str(answer.get("code") or "refused"), str(answer.get("status") or ""))
    return answer


class PgOfficerOps:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _call(self, sql: str, **params: Any) -> dict[str, Any]:
        with self.engine.begin() as c:
            result = c.execute(text(sql), params).scalar_one()
        return _answer(result)  # a refusal's failure count and log entry are committed

    def _proof(self, officer_id: str, secret: str) -> bytes:
        with self.engine.connect() as c:
            challenge = dict(
                c.execute(
                    text("SELECT border_officer_challenge(:o)"), {"o": officer_id}
                ).scalar_one()
            )
        try:
            return derive(secret, bytes.fromhex(challenge["salt"]), challenge["params"])
        except SecretError:
            return derive(secret, bytes.fromhex(challenge["salt"]), DEFAULT_PARAMS)

    def sign_in(self, officer_id: str, secret: str) -> SignedIn:
        oid = typed_id(officer_id)
        a = self._call("SELECT border_officer_sign_in(:o, :p)", o=oid, p=self._proof(oid, secret))
        return SignedIn(bytes.fromhex(a["token"]), a["officer_id"], a["name"], a["role"], a["port"])

    def sign_out(self, token: bytes, why: str) -> None:
        self._call("SELECT border_officer_sign_out(:t, :w)", t=token, w=why)

    def resolve(
        self, token: bytes, rid: uuid.UUID, action: str, reason: str, text_: str
    ) -> dict[str, Any]:
        return self._call(
            "SELECT border_officer_resolve(:t, :r, :a, :c, :x)",
            t=token, r=rid, a=action, c=reason, x=text_,
        )  # fmt: skip

    def confirm(self, token: bytes, rid: uuid.UUID, second: str, secret: str) -> dict[str, Any]:
        oid = typed_id(second)
        return self._call(
            "SELECT border_officer_confirm(:t, :r, :s, :p)",
            t=token, r=rid, s=oid, p=self._proof(oid, secret),
        )  # fmt: skip

    def lane_command(
        self, token: bytes, kiosk: str, kind: str, reason: str, text_: str
    ) -> dict[str, Any]:
        return self._call(
            "SELECT border_officer_lane_command(:t, :k, :n, :c, :x)",
            t=token, k=kiosk, n=kind, c=reason, x=text_,
        )  # fmt: skip

    def ack_alert(self, token: bytes, alert_id: int, text_: str) -> dict[str, Any]:
        return self._call(
            "SELECT border_officer_ack_alert(:t, :a, :x)", t=token, a=alert_id, x=text_
        )

    def verify_log(self) -> dict[str, Any]:
        with self.engine.connect() as c:
            return dict(c.execute(text("SELECT border_officer_log_verify()")).scalar_one())


_local_lock = threading.Lock()  # the stand-in's one writer at a time


class LocalOfficerOps:
    def __init__(self, engine: Engine, clock: Clock, settings: StationSettings) -> None:
        self.engine, self.clock, self.settings = engine, clock, settings

    # -- secrets and sessions ----------------------------------------------------------
    def _check_secret(self, c: Connection, officer_id: str, secret: str) -> str | None:
        now = as_utc(self.clock.now())
        row = c.execute(select(officers).where(officers.c.officer_id == officer_id)).first()
        if row is None or row.secret_salt is None:
            derive(secret, hashlib.sha256(officer_id.encode()).digest()[:16], DEFAULT_PARAMS)
            return "invalid_credentials"
        if row.disabled:
            return "disabled"
        if row.locked_until is not None and as_utc(row.locked_until) > now:
            return "locked"
        where = officers.c.officer_id == officer_id
        proof = derive(secret, bytes(row.secret_salt), row.secret_params)
        if hmac.compare_digest(hashlib.sha256(proof).digest(), bytes(row.secret_check)):
            c.execute(
                update(officers).where(where)
                .values(failed_attempts=0, locked_until=None, last_sign_in=now)
            )  # fmt: skip
            return None
        fails = int(row.failed_attempts) + 1
        values: dict[str, Any] = {"failed_attempts": fails}
        if fails >= self.settings.max_failed_sign_ins:
            values["locked_until"] = now + timedelta(seconds=self.settings.lockout_s)
        c.execute(update(officers).where(where).values(**values))
        return "locked" if "locked_until" in values else "invalid_credentials"

    def _log(self, c: Connection, kind: str, kiosk: str, officer: str, reason: str,
             text_: str = "", rid: uuid.UUID | None = None, second: str | None = None,
             detail: dict[str, Any] | None = None) -> uuid.UUID:  # fmt: skip
        record = ActionRecord(kind, kiosk, officer[:32], reason[:32], text_, self.clock.now(),
                              rid, second, detail or {})  # fmt: skip
        append_action(c, record)
        return record.action_id

    def sign_in(self, officer_id: str, secret: str) -> SignedIn:
        oid = typed_id(officer_id)
        with _local_lock, self.engine.begin() as c:
            code = self._check_secret(c, oid, secret)
            if code is None:
                row = c.execute(select(officers).where(officers.c.officer_id == oid)).one()
                token = os.urandom(32)
                now = self.clock.now()
                c.execute(insert(officer_sessions), {
                    "token_hash": hashlib.sha256(token).digest(), "officer_id": oid,
                    "started_at": now, "last_used": now,
                })  # fmt: skip
                self._log(c, "sign_in", "-", oid, "sign_in")
                return SignedIn(token, oid, row.name, row.role, row.port)
            self._log(c, "sign_in_refused", "-", oid, code)
        raise OpsRefused(code)

    def _session(self, c: Connection, token: bytes) -> Any:
        now = as_utc(self.clock.now())
        h = hashlib.sha256(token).digest()
        s = c.execute(
            select(officer_sessions).where(
                officer_sessions.c.token_hash == h, officer_sessions.c.ended_at.is_(None)
            )
        ).first()
        if s is None:
            raise OpsRefused("not_signed_in")
        if (now - as_utc(s.last_used)).total_seconds() > self.settings.idle_sign_out_s:
            c.execute(update(officer_sessions).where(officer_sessions.c.token_hash == h)
                      .values(ended_at=now))  # fmt: skip
            raise OpsRefused("not_signed_in")
        o = c.execute(select(officers).where(officers.c.officer_id == s.officer_id)).one()
        if o.disabled:
            raise OpsRefused("not_signed_in")
        c.execute(update(officer_sessions).where(officer_sessions.c.token_hash == h)
                  .values(last_used=now))  # fmt: skip
        return o

    def sign_out(self, token: bytes, why: str) -> None:
        h = hashlib.sha256(token).digest()
        with _local_lock, self.engine.begin() as c:
            s = c.execute(
                select(officer_sessions).where(
                    officer_sessions.c.token_hash == h, officer_sessions.c.ended_at.is_(None)
                )
            ).first()
            if s is None:
                return
            c.execute(update(officer_sessions).where(officer_sessions.c.token_hash == h)
                      .values(ended_at=self.clock.now()))  # fmt: skip
            self._log(c, "sign_out", "-", s.officer_id, why)

    # -- actions ----------------------------------------------------------------------
    def _issue(self, c: Connection, kiosk: str, kind: str, rid: uuid.UUID | None, officer: str,
               second: str | None, reason: str, text_: str,
               two: bool) -> dict[str, Any]:  # fmt: skip
        key = c.execute(select(kiosk_command_keys.c.command_key)
                        .where(kiosk_command_keys.c.kiosk_id == kiosk)).scalar()  # fmt: skip
        if key is None:
            raise OpsRefused("kiosk_not_enrolled")
        issued = as_utc(self.clock.now())
        fields = command_mac.CommandFields(
            uuid.uuid4(), kiosk, kind, rid, officer, second, reason, issued,
            issued + timedelta(seconds=COMMAND_TTL_S),
        )  # fmt: skip
        mac = command_mac.sign(bytes(key), fields)
        aid = self._log(c, kind, kiosk, officer, reason, text_, rid, second,
                        {"command_id": str(fields.command_id), "mac": mac})  # fmt: skip
        c.execute(insert(commands), {
            "command_id": fields.command_id, "kiosk_id": kiosk, "kind": kind, "referral_id": rid,
            "officer_id": officer, "second_officer_id": second, "reason_code": reason,
            "reason_text": text_, "issued_at": issued, "expires_at": fields.expires_at,
            "two_officer": two, "mac": mac,
        })  # fmt: skip
        return {"ok": True, "status": "issued", "action_id": str(aid),
                "command_id": str(fields.command_id)}  # fmt: skip

    def _referral(self, c: Connection, o: Any, rid: uuid.UUID, status: str) -> Any:
        r = c.execute(select(referrals).where(referrals.c.referral_id == rid)).first()
        if r is None or (o.port and r.port != o.port):
            raise OpsRefused("unknown_referral")
        if status == "open" and r.status == "resolved" and self._reopen(c, r):
            r = c.execute(select(referrals).where(referrals.c.referral_id == rid)).one()
        if r.status != status:
            raise OpsRefused("not_open", r.status)
        return r

    def _reopen(self, c: Connection, r: Any) -> bool:
        """b0007g's commands_answered trigger, at the next action: a case whose
        latest command the kiosk rejected or failed is open again (logged)."""
        last = c.execute(
            select(commands).where(commands.c.referral_id == r.referral_id)
            .order_by(commands.c.issued_at.desc()).limit(1)
        ).first()  # fmt: skip
        if last is None or last.result not in ("rejected", "failed"):
            return False
        c.execute(update(referrals).where(referrals.c.referral_id == r.referral_id)
                  .values(status="open", resolved_at=None, resolution=None))  # fmt: skip
        self._log(c, "case_reopened", last.kiosk_id, last.officer_id, last.result,
                  last.result_detail or "", r.referral_id, last.second_officer_id,
                  {"command_id": str(last.command_id), "command": last.kind})  # fmt: skip
        return True

    def _resolved(self, c: Connection, rid: uuid.UUID, action: str) -> None:
        c.execute(
            update(referrals).where(referrals.c.referral_id == rid)
            .values(status="resolved", resolved_at=self.clock.now(), resolution=action)
        )  # fmt: skip

    def resolve(
        self, token: bytes, rid: uuid.UUID, action: str, reason: str, text_: str
    ) -> dict[str, Any]:
        with _local_lock, self.engine.begin() as c:
            o = self._session(c, token)
            if o.role not in CASE_ROLES:
                raise OpsRefused("not_permitted")
            if action not in ("admit", "refuse", "manual") or not reason:
                raise OpsRefused("invalid_action")
            r = self._referral(c, o, rid, "open")
            if needs_typed(action, r, text_):
                raise OpsRefused("reason_needed")
            if action == "admit" and needs_two(r):
                aid = self._log(c, "admit_requested", r.kiosk_id, o.officer_id, reason, text_, rid)
                c.execute(update(referrals).where(referrals.c.referral_id == rid)
                          .values(status="awaiting_second"))  # fmt: skip
                return {"ok": True, "status": "awaiting_second", "action_id": str(aid)}
            answer = self._issue(c, r.kiosk_id, action, rid, o.officer_id, None, reason, text_,
                                 False)  # fmt: skip
            self._resolved(c, rid, action)
            return answer

    def confirm(self, token: bytes, rid: uuid.UUID, second: str, secret: str) -> dict[str, Any]:
        sid = typed_id(second)
        with _local_lock, self.engine.begin() as c:
            o = self._session(c, token)
            if o.role not in CASE_ROLES:
                raise OpsRefused("not_permitted")
            r = self._referral(c, o, rid, "awaiting_second")
            req = c.execute(
                select(officer_actions).where(officer_actions.c.referral_id == rid,
                                              officer_actions.c.kind == "admit_requested")
                .order_by(officer_actions.c.seq.desc()).limit(1)
            ).first()  # fmt: skip
            if req is None:
                raise OpsRefused("nothing_to_confirm")
            if sid == req.officer_id:
                raise OpsRefused("same_officer")
            code = self._check_secret(c, sid, secret)
            if code is not None:
                self._log(c, "confirm_refused", r.kiosk_id, sid, code, "", rid)
                answer: dict[str, Any] = {"ok": False, "code": code}
            else:
                s = c.execute(select(officers).where(officers.c.officer_id == sid)).one()
                if s.role not in CASE_ROLES or (s.port and s.port != r.port):
                    raise OpsRefused("not_permitted")
                answer = self._issue(c, r.kiosk_id, "admit", rid, req.officer_id, sid,
                                     req.reason_code, req.reason_text, True)  # fmt: skip
                self._resolved(c, rid, "admit")
        if not answer["ok"]:  # the failure count and the log entry are committed
            raise OpsRefused(answer["code"])
        return answer

    def lane_command(
        self, token: bytes, kiosk: str, kind: str, reason: str, text_: str
    ) -> dict[str, Any]:
        with _local_lock, self.engine.begin() as c:
            o = self._session(c, token)
            if kind not in ("reset", "close", "open") or not reason:
                raise OpsRefused("invalid_action")
            ks = c.execute(select(kiosk_status).where(kiosk_status.c.kiosk_id == kiosk)).first()
            if (
                ks is None
                or (o.port and ks.port != o.port)
                or (o.role == "maintenance" and not o.port)
            ):
                raise OpsRefused("unknown_kiosk")
            return self._issue(c, kiosk, kind, None, o.officer_id, None, reason, text_, False)

    def ack_alert(self, token: bytes, alert_id: int, text_: str) -> dict[str, Any]:
        with _local_lock, self.engine.begin() as c:
            o = self._session(c, token)
            if o.role != "supervisor":
                raise OpsRefused("not_permitted")
            a = c.execute(select(KioskAlert.__table__).where(KioskAlert.id == alert_id)).first()
            port = None if a is None else c.execute(
                select(kiosk_status.c.port).where(kiosk_status.c.kiosk_id == a.kiosk_id)
            ).scalar()  # fmt: skip
            if a is None or (o.port and port != o.port):
                raise OpsRefused("unknown_alert")
            if a.acknowledged_at is not None:
                raise OpsRefused("not_open", "acknowledged")
            c.execute(update(KioskAlert).where(KioskAlert.id == alert_id).values(
                acknowledged_at=self.clock.now(), acknowledged_by=o.officer_id))  # fmt: skip
            aid = self._log(c, "alert_acked", a.kiosk_id, o.officer_id, a.kind[:32],
                            text_[:1000], None, None,
                            {"alert_id": a.id, "kind": a.kind, "detail": a.detail})  # fmt: skip
            return {"ok": True, "status": "acknowledged", "action_id": str(aid)}

    def verify_log(self) -> dict[str, Any]:
        return verify_actions(self.engine)


def needs_typed(action: str, referral: Any, text_: str) -> bool:
    """An admit after a risky reason without the officer's own words (b0007g)."""
    risky = bool(referral.watchlist) or needs_typed_reason(action, list(referral.reasons or ()))
    return action == "admit" and risky and len(text_.strip()) < MIN_TYPED_REASON


def needs_two(referral: Any) -> bool:
    reasons = set(referral.reasons or ())
    return bool(referral.watchlist) or bool(reasons & set(TWO_OFFICER_REASONS))


def provision_command_key(engine: Engine, kiosk_id: str, clock: Clock) -> bytes:
    """A new random command key for `kiosk_id` (replacing any earlier one), kept in the
    border by its owner; the caller writes it to the kiosk (command_mac.write_key)."""
    key = os.urandom(command_mac.KEY_BYTES)
    with engine.begin() as c:
        c.execute(kiosk_command_keys.delete().where(kiosk_command_keys.c.kiosk_id == kiosk_id))
        c.execute(
            insert(kiosk_command_keys),
            {"kiosk_id": kiosk_id, "command_key": key, "created_at": clock.now()},
        )
    return key
