"""Border-side maintenance run by its owner (`egate border purge`, the
egate-border-purge timer; `egate border key-rotate`): docs/border.md.

Referral images leave the border at their expiry whether or not an officer
opens the queue, and at the maximum retention in force now (lowering it takes
effect at the next purge). A kiosk's log key is replaced only through the
border: the owner clears its enrolment, with a reason the supervisor sees.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, text, update

from kiosk.border.models import BorderSetting
from kiosk.border.station_tables import referral_images

IMAGE_MAX_SETTING = "referral_image_max_h"
DEFAULT_IMAGE_MAX_H = 720
# A year of hours at most (0: keep none): a typing slip must not keep
# traveller images for years.
IMAGE_MAX_LIMIT_H = 24 * 7 * 52


def set_image_max_h(engine: Engine, hours: int) -> None:
    if not 0 <= hours <= IMAGE_MAX_LIMIT_H:
        raise ValueError(f"the maximum image retention is 0 to {IMAGE_MAX_LIMIT_H} hours")
    with engine.begin() as c:
        done = c.execute(
            update(BorderSetting)
            .where(BorderSetting.name == IMAGE_MAX_SETTING)
            .values(value=str(hours))
        ).rowcount
        if not done:
            c.execute(insert(BorderSetting).values(name=IMAGE_MAX_SETTING, value=str(hours)))


def image_max_h(engine: Engine) -> int:
    with engine.connect() as c:
        value = c.execute(
            select(BorderSetting.value).where(BorderSetting.name == IMAGE_MAX_SETTING)
        ).scalar()
    return int(value) if value is not None else DEFAULT_IMAGE_MAX_H


def purge_images(engine: Engine) -> int:
    """Delete referral images past their expiry or the maximum now in force."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            return int(c.execute(text("SELECT border_purge_images()")).scalar_one())
    now = datetime.now(UTC)
    oldest = now - timedelta(hours=image_max_h(engine))
    with engine.begin() as c:
        result = c.execute(
            delete(referral_images).where(
                (referral_images.c.expires_at <= now) | (referral_images.c.stored_at <= oldest)
            )
        )
        return int(result.rowcount or 0)


def rekey(engine: Engine, kiosk_id: str, reason: str) -> bool:
    """Clear `kiosk_id`'s log key enrolment so that its next key enrols (owner
    only; audited as a key_rotated alert). False: the border knows no such log."""
    if engine.dialect.name != "postgresql":
        raise ValueError("key enrolment is kept by the PostgreSQL border only")
    with engine.begin() as c:
        return bool(
            c.execute(
                text("SELECT border_log_rekey(:k, :r)"), {"k": kiosk_id, "r": reason}
            ).scalar_one()
        )
