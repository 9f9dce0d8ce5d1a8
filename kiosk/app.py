"""Composition root: the one place that picks implementations from the config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine

from devices.errors import ChipError
from devices.icao9303.lds.dg2 import DataGroup2
from kiosk.biometrics.matcher import FaceMatcher
from kiosk.biometrics.reference import decode_image
from kiosk.clock import Clock
from kiosk.config import Config, FaceSection, expand_url
from kiosk.face_process import ProcessFaceVerifier
from kiosk.journey.scan_step import scan_boarding_pass
from kiosk.policy_adapter import PackPolicy
from kiosk.ports import FaceVerifier
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.store.models import ReferralImage
from kiosk.store.reference import ReferenceStore
from kiosk.trust.passive import PassiveAuthenticator
from kiosk.trust.store import CscaStore
from kiosk.watchlist import Watchlist
from kiosk.workflow.facts import facts_from_dg1
from kiosk.workflow.lane import JourneyLookup, LaneServices


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

    def __call__(self, event_id: str, jpeg: bytes) -> None:
        from sqlalchemy import delete
        from sqlalchemy.orm import Session

        now = self.clock.now().astimezone(UTC)
        with Session(self.engine) as session, session.begin():
            session.execute(
                delete(ReferralImage).where(ReferralImage.expires_at < now.replace(tzinfo=None))
            )
            if self.retention > timedelta(0):
                session.add(
                    ReferralImage(
                        event_id=event_id,
                        jpeg=jpeg,
                        expires_at=(now + self.retention).replace(tzinfo=None),
                    )
                )


@dataclass
class LocalStorage:
    engine: Engine
    events: EventLog
    reference: ReferenceStore


def open_storage(config: Config) -> LocalStorage:
    engine = open_local(expand_url(config.storage.local_url))
    return LocalStorage(engine, EventLog(engine), ReferenceStore(engine))


def no_journey(_facts: Any, _now: datetime) -> Mapping[str, Any] | None:
    return None


def face_matcher(face: FaceSection) -> FaceVerifier:
    """Builds the dlib matcher inside the face worker process (picklable factory)."""
    matcher = FaceMatcher.from_config(face)
    _ = matcher.models  # load the models before the first traveller
    return matcher


def build_services(
    config: Config,
    storage: LocalStorage,
    clock: Clock,
    journey: JourneyLookup = no_journey,
) -> LaneServices:
    return LaneServices(
        authenticator=PassiveAuthenticator(CscaStore.from_reference_store(storage.reference)),
        face=ProcessFaceVerifier(partial(face_matcher, config.face)),
        policy=PackPolicy.from_config(config),
        document_facts=facts_from_dg1,
        reference_face=reference_face,
        journey=journey,
        watchlist=Watchlist(storage.reference),
        boarding_pass=scan_boarding_pass,
        referral_images=ReferralImages(
            storage.engine, config.privacy.referral_image_retention_h, clock
        ),
    )
