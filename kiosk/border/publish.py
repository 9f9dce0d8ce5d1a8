"""Admin operations on the border database: publishing reference data and
recording advance passenger information (API) rows.

Payloads are checked before they are published, so a kiosk never pulls a file
it cannot use: certificates and CRLs must decode (stored as DER, one item per
certificate, keyed by the SHA-256 of the DER as `egate trust import` keys
them), a master list must be a CMS SignedData of the ICAO CscaMasterList type,
a policy pack must pass the policy engine's validation, a watchlist entry is a
key "ISSUING_STATE:DOCUMENT_NUMBER" with an empty payload.

Trust items (csca, dsc, crl, masterlist) are always keyed by the SHA-256 of their
payload, and kiosks refuse any other key (kiosk/trust/store.py key_problem): a key
names one content for good, so a published item can add to a kiosk's trust store but
never replace what its operator imported. Publishing does not make a CSCA a trust
anchor: a kiosk trusts a self-signed CSCA only when a master list whose signer
chains to one of its locally provisioned anchors vouches for it (an ICAO master
list, or an administrator's list made with `egate trust endorse`); see docs/trust.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.border.errors import BorderError, PublishError
from kiosk.border.models import AdvancePassengerInfo, BorderReferenceItem
from kiosk.border.sync.mapping import normalise_document_number
from kiosk.decision.journey.carrier_keys import carrier_of, load_carrier_key
from kiosk.trust.certificates import load_certificates, parse_crl
from kiosk.trust.errors import TrustError
from kiosk.trust.masterlist import is_master_list
from kiosk.trust.store import TRUST_KINDS_KEYED_BY_DIGEST
from policy.errors import PolicyError
from policy.pack import parse_pack
from policy.states import normalise_state

KINDS: Final = ("csca", "dsc", "crl", "masterlist", "policy_pack", "watchlist", "carrier_key")
_IATA: Final = re.compile(r"^[A-Z]{3}$")
_FLIGHT: Final = re.compile(r"^[A-Z0-9]{2}[A-Z]?\d{1,4}[A-Z]?$")
_DOC_NUMBER: Final = re.compile(r"^[A-Z0-9]{1,35}$")
_KEY: Final = re.compile(r"^\S{1,200}$")


@dataclass(frozen=True)
class PreparedItem:
    kind: str
    key: str
    payload: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


def watchlist_key(issuing_state: str, document_number: str) -> str:
    """Same spelling as kiosk.lane.watchlist.watchlist_key, validated."""
    state = normalise_state(issuing_state)
    number = normalise_document_number(document_number)
    if not _DOC_NUMBER.match(number):
        raise PublishError(f"{document_number!r} is not an MRZ document number")
    return f"{state}:{number}"


def prepare(kind: str, payload: bytes, key: str | None) -> list[PreparedItem]:
    """Validate one file for `kind`; returns the item(s) to publish."""
    if kind not in KINDS:
        raise PublishError(f"unknown reference kind {kind!r} (one of {', '.join(KINDS)})")
    if key is not None and not _KEY.match(key):
        raise PublishError(f"key {key!r} must be 1-200 characters without spaces")
    if key is not None and kind in TRUST_KINDS_KEYED_BY_DIGEST:
        raise PublishError(f"a {kind} item is keyed by the sha256 of its payload; omit --key")
    try:
        if kind in ("csca", "dsc"):
            certs = load_certificates(payload)
            if key is not None and len(certs) != 1:
                raise PublishError(f"--key names one item but the file holds {len(certs)}")
            return [PreparedItem(kind, key or c.sha256, c.der) for c in certs]
        if kind == "crl":
            crl = parse_crl(payload)
            return [PreparedItem(kind, key or crl.sha256, crl.der)]
        if kind == "masterlist":
            if not is_master_list(payload):
                raise PublishError("not a CMS SignedData with the ICAO CscaMasterList content")
            return [PreparedItem(kind, key or hashlib.sha256(payload).hexdigest(), payload)]
        if kind == "policy_pack":
            pack = parse_pack(payload, origin=key or "<published pack>")
            return [PreparedItem(kind, key or pack.id, payload)]
        if kind == "carrier_key":  # decision/journey/carrier_keys.py: boarding-pass signatures
            if key is None:
                raise PublishError("a carrier key needs --key DESIGNATOR[:LABEL], e.g. CA:2026")
            carrier_of(key)
            load_carrier_key(payload)
            return [PreparedItem(kind, key, payload)]
    except (TrustError, PolicyError, ValueError) as exc:
        raise PublishError(f"{kind}: {exc}") from exc
    # watchlist
    if key is None:
        raise PublishError("a watchlist entry needs --key ISSUING_STATE:DOCUMENT_NUMBER")
    state, sep, number = key.partition(":")
    if not sep:
        raise PublishError(f"watchlist key {key!r} is not ISSUING_STATE:DOCUMENT_NUMBER")
    try:
        canonical = watchlist_key(state, number)
    except ValueError as exc:
        raise PublishError(f"watchlist key {key!r}: {exc}") from exc
    if payload:
        raise PublishError("a watchlist entry has an empty payload")
    return [PreparedItem(kind, canonical, b"")]


def publish(engine: Engine, items: list[PreparedItem], provenance: str) -> list[dict[str, Any]]:
    """Insert or replace each (kind, key); an unchanged payload is left as it is."""
    now = datetime.now(UTC)
    out: list[dict[str, Any]] = []
    try:
        with Session(engine) as s, s.begin():
            existing: dict[tuple[str, str], BorderReferenceItem] = {}
            for kind in {i.kind for i in items}:
                keys = [i.key for i in items if i.kind == kind]
                for start in range(0, len(keys), 500):
                    for r in s.scalars(
                        select(BorderReferenceItem).where(
                            BorderReferenceItem.kind == kind,
                            BorderReferenceItem.key.in_(keys[start : start + 500]),
                        )
                    ):
                        existing[(r.kind, r.key)] = r
            for item in items:
                row = existing.get((item.kind, item.key))
                changed = row is None or row.sha256 != item.sha256 or row.withdrawn_at is not None
                if row is None:
                    row = BorderReferenceItem(kind=item.kind, key=item.key)
                    s.add(row)
                    existing[(item.kind, item.key)] = row
                if changed:
                    row.payload = item.payload
                    row.sha256 = item.sha256
                    row.provenance = provenance
                    row.published_at = now
                    row.withdrawn_at = None
                out.append(
                    {
                        "kind": item.kind,
                        "key": item.key,
                        "sha256": item.sha256,
                        "changed": changed,
                        "published_at": row.published_at.isoformat(),
                    }
                )
    except SQLAlchemyError as exc:
        raise BorderError(f"cannot publish: {' '.join(str(exc).split())[:300]}") from exc
    return out


def withdraw(engine: Engine, kind: str, key: str) -> bool:
    """Mark (kind, key) withdrawn; kiosks delete their copy on the next pull.
    False when there was no such published item."""
    now = datetime.now(UTC)
    try:
        with Session(engine) as s, s.begin():
            row = s.scalars(
                select(BorderReferenceItem).where(
                    BorderReferenceItem.kind == kind, BorderReferenceItem.key == key
                )
            ).first()
            if row is None or row.withdrawn_at is not None:
                return False
            row.payload = b""
            row.sha256 = hashlib.sha256(b"").hexdigest()
            row.published_at = now
            row.withdrawn_at = now
    except SQLAlchemyError as exc:
        raise BorderError(f"cannot withdraw: {' '.join(str(exc).split())[:300]}") from exc
    return True


@dataclass(frozen=True)
class ApiRecord:
    """One advance passenger information row as an airline reports it."""

    document_number: str
    issuing_state: str
    flight_date: date
    arrived_from: str | None
    flight: str | None = None
    destination: str | None = None
    departure_time: datetime | None = None
    departure_port: str | None = None
    onward_flight: str | None = None
    confirmed: bool = False

    def validated(self) -> ApiRecord:
        try:
            number = normalise_document_number(self.document_number)
            if not _DOC_NUMBER.match(number):
                raise PublishError(f"{self.document_number!r} is not an MRZ document number")
            issuing = normalise_state(self.issuing_state)
            origin = None if self.arrived_from is None else normalise_state(self.arrived_from)
            dest = None if self.destination is None else normalise_state(self.destination)
        except ValueError as exc:
            raise PublishError(str(exc)) from exc
        for label, flight in (("flight", self.flight), ("onward flight", self.onward_flight)):
            if flight is not None and not _FLIGHT.match(flight):
                raise PublishError(f"{label} {flight!r} is not an IATA flight designator")
        if self.departure_port is not None and not _IATA.match(self.departure_port):
            raise PublishError(f"{self.departure_port!r} is not a three-letter IATA airport code")
        when = self.departure_time
        if when is not None and (when.tzinfo is None or when.utcoffset() is None):
            raise PublishError("departure_time needs a UTC offset (e.g. +08:00)")
        onward_fields = (self.destination, self.departure_port, self.onward_flight)
        if when is None and any(v is not None for v in onward_fields):
            raise PublishError("an onward journey needs its departure_time")
        return ApiRecord(
            number, issuing, self.flight_date, origin, self.flight, dest, when,
            self.departure_port, self.onward_flight, self.confirmed,
        )  # fmt: skip


def add_api(engine: Engine, record: ApiRecord) -> dict[str, Any]:
    """Store one API row (validated); returns it as JSON-safe data."""
    r = record.validated()
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            row = AdvancePassengerInfo(
                document_number=r.document_number,
                issuing_state=r.issuing_state,
                flight_date=r.flight_date,
                flight=r.flight,
                arrived_from=r.arrived_from,
                destination=r.destination,
                departure_time=r.departure_time,
                departure_port=r.departure_port,
                onward_flight=r.onward_flight,
                confirmed=r.confirmed,
            )
            s.add(row)
            s.flush()
            row_id = row.id
    except SQLAlchemyError as exc:
        raise BorderError(f"cannot add API row: {' '.join(str(exc).split())[:300]}") from exc
    return {
        "id": row_id,
        "document_number": r.document_number,
        "issuing_state": r.issuing_state,
        "flight_date": r.flight_date.isoformat(),
        "flight": r.flight,
        "arrived_from": r.arrived_from,
        "destination": r.destination,
        "departure_time": r.departure_time.isoformat() if r.departure_time else None,
        "departure_port": r.departure_port,
        "onward_flight": r.onward_flight,
        "confirmed": r.confirmed,
    }
