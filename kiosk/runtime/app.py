"""Composition root: the one place that picks implementations from the config."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, and_, delete, or_
from sqlalchemy.orm import Session

from devices.errors import ChipError
from devices.icao9303.lds.dg2 import DataGroup2
from kiosk.border import BorderApiSource, BorderError, BorderSync, open_border
from kiosk.clock import Clock
from kiosk.config import Config, border_url, expand_url, log_key_path
from kiosk.decision.journey.carrier_keys import CarrierKeys
from kiosk.decision.journey.resolver import JourneyResolver
from kiosk.decision.journey.scan_step import scan_boarding_pass
from kiosk.decision.policy_adapter import PackPolicy
from kiosk.face.matcher import face_matcher
from kiosk.face.reference import decode_image
from kiosk.face.worker import ProcessFaceVerifier
from kiosk.lane.facts import PORT_TIMEZONE, facts_from_dg1
from kiosk.lane.machine import JourneyLookup, LaneServices
from kiosk.lane.reference_data import PolicyFromReference, TrustFromReference, reference_age_h
from kiosk.lane.watchlist import Watchlist
from kiosk.runtime.border_probe import production_border_url, require_reachable
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.store.models import ReferralImage
from kiosk.store.reference import ReferenceStore
from kiosk.store.seal import optional_key

log = logging.getLogger(__name__)


def reference_face(files: Mapping[str, bytes]) -> npt.NDArray[np.uint8]:
    """The DG2 face as RGB pixels; ChipError when DG2 is missing or undecodable."""
    raw = files.get("DG2")
    if raw is None:
        raise ChipError("the chip has no DG2 face")
    face = DataGroup2.parse(raw).face
    try:
        return decode_image(face.image_bytes)
    except ValueError as exc:
        raise ChipError(f"DG2 image cannot be decoded: {exc}") from exc


class ReferralImages:
    """Keeps a referred traveller's best live frame for the officer, no longer than
    privacy.referral_image_retention_h; expired frames are purged on every write."""

    def __init__(self, engine: Engine, retention_h: float, clock: Clock) -> None:
        self.engine = engine
        self.retention = timedelta(hours=retention_h)
        self.clock = clock

    def purge(self) -> int:
        """Delete frames past their retention, the retention in force now (a
        lowered one applies to frames stored before it); the number deleted."""
        now = self.clock.now().astimezone(UTC).replace(tzinfo=None)
        img = ReferralImage
        past = or_(
            img.expires_at <= now,
            img.stored_at <= now - self.retention,
            # Stored before stored_at existed: longer left than the retention now.
            and_(img.stored_at.is_(None), img.expires_at > now + self.retention),
        )
        with Session(self.engine) as session, session.begin():
            result = session.execute(delete(img).where(past))
            return int(getattr(result, "rowcount", 0) or 0)

    def __call__(self, event_id: str, jpeg: bytes) -> None:
        now = self.clock.now().astimezone(UTC)
        self.purge()
        with Session(self.engine) as session, session.begin():
            if self.retention > timedelta(0):
                session.add(
                    ReferralImage(
                        event_id=event_id,
                        jpeg=jpeg,
                        expires_at=(now + self.retention).replace(tzinfo=None),
                        stored_at=now.replace(tzinfo=None),
                    )
                )


@dataclass
class LocalStorage:
    engine: Engine
    events: EventLog
    reference: ReferenceStore
    border: Engine | None = None  # None while the border database is unreachable
    border_api: BorderApiSource | None = None


def _open_local(config: Config) -> LocalStorage:
    engine = open_local(expand_url(config.storage.local_url))
    # Enrolled kiosks seal every event with their log key (docs/border.md).
    sealer = optional_key(log_key_path(config))
    return LocalStorage(engine, EventLog(engine, sealer), ReferenceStore(engine))


def open_storage(config: Config) -> LocalStorage:
    """Demo, simulator and scenarios: the local database (must open: the kiosk
    refuses to run without its log) and, best effort, the border database, an
    SQLite stand-in when storage.border_url is empty (the lane works offline)."""
    storage = _open_local(config)
    try:
        storage.border = open_border(border_url(config))
    except BorderError as exc:
        log.warning("border database unavailable, running offline: %s", exc)
    else:
        storage.border_api = BorderApiSource(storage.border, zone=PORT_TIMEZONE)
    return storage


def open_production_storage(config: Config) -> LocalStorage:
    """`egate kiosk`: the configured border PostgreSQL, reachable now, or no lane
    (ConfigError for an empty or non-PostgreSQL border_url, BorderError when it
    does not answer). Never a stand-in: one would hold an empty watchlist and
    freshly "confirmed" reference data, so the staleness rule could not fire.
    Once running, an outage is the sync's business (the lane refers on stale data)."""
    url = production_border_url(config)
    border = open_border(url)
    try:
        require_reachable(border)
    except BorderError:
        border.dispose()
        raise
    storage = _open_local(config)
    storage.border = border
    storage.border_api = BorderApiSource(border, zone=PORT_TIMEZONE)
    return storage


def start_sync(config: Config, storage: LocalStorage, stop: threading.Event) -> BorderSync | None:
    """The background sync: outbox up, reference data down, every sync_interval_s."""
    if storage.border is None:
        return None
    sync = BorderSync(
        storage.engine,
        storage.border,
        config.kiosk.id,
        interval_s=config.storage.sync_interval_s,
        sealer=storage.events.sealer,
    )
    sync.start(stop)
    return sync


def no_journey(_facts: Any, _now: datetime) -> Mapping[str, Any] | None:
    return None


def build_services(
    config: Config,
    storage: LocalStorage,
    clock: Clock,
    journey: JourneyLookup | None = None,
) -> LaneServices:
    api = storage.border_api
    images = ReferralImages(storage.engine, config.privacy.referral_image_retention_h, clock)
    if journey is None:
        # Advance passenger information from the border database; the lane asks
        # for the boarding pass when there is none.
        journey = JourneyResolver(case_lookup=api) if api is not None else no_journey
    return LaneServices(
        authenticator=TrustFromReference(storage.reference, config.trust.deviation_policy),
        face=ProcessFaceVerifier(partial(face_matcher, config.face)),
        policy=PolicyFromReference(PackPolicy.from_config(config), storage.reference),
        document_facts=facts_from_dg1,
        reference_face=reference_face,
        journey=journey,
        reference_age_h=partial(reference_age_h, storage.reference),
        entry_record=api.entry_record_for if api is not None else (lambda _facts: None),
        watchlist=Watchlist(storage.reference),
        # A pass counts only when its carrier signed it with a key the border
        # distributes (reference data, read afresh for each pass).
        boarding_pass=partial(scan_boarding_pass, carrier_keys=CarrierKeys(storage.reference)),
        referral_images=images,
        housekeeping=images.purge,
    )
