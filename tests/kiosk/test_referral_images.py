"""A referred traveller's live frame is kept for the officer, and no longer than allowed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.clock import FakeClock
from kiosk.runtime.app import ReferralImages
from kiosk.store.database import open_local
from kiosk.store.models import ReferralImage


def count(engine: object) -> int:
    with Session(engine) as s:  # type: ignore[arg-type]
        return int(s.scalar(select(func.count()).select_from(ReferralImage)) or 0)


def test_frames_expire_after_the_retention_period(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/l.sqlite")
    clock = FakeClock()
    images = ReferralImages(engine, retention_h=2.0, clock=clock)
    images("tx-1", b"\xff\xd8one")
    clock.advance(3600)
    images("tx-2", b"\xff\xd8two")
    assert count(engine) == 2
    clock.advance(3600 + 1)  # tx-1 is now past two hours, tx-2 is not
    assert images.purge() == 1
    assert count(engine) == 1
    clock.advance(3600)
    images.purge()
    assert count(engine) == 0


def test_zero_retention_keeps_nothing(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/l.sqlite")
    ReferralImages(engine, retention_h=0.0, clock=FakeClock())("tx-1", b"\xff\xd8")
    assert count(engine) == 0
