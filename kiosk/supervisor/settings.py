"""Settings of the supervisor station and the kiosk agent (defaults; the
commands take overrides)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StationSettings:
    # On PostgreSQL the border's officer_policy row is what counts (b0004o); these
    # apply to the SQLite stand-in and to the station's own idle sign-out.
    max_failed_sign_ins: int = 5  # then the account is locked ...
    lockout_s: float = 900.0  # ... for this long
    idle_sign_out_s: float = 300.0  # automatic sign-out after inactivity
    offline_after_s: float = 30.0  # a kiosk silent this long shows as offline

    def __post_init__(self) -> None:
        if self.max_failed_sign_ins < 1:
            raise ValueError("max_failed_sign_ins must be at least 1")
        for name in ("lockout_s", "idle_sign_out_s", "offline_after_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


@dataclass(frozen=True)
class AgentSettings:
    heartbeat_s: float = 5.0  # status row refreshed at least this often
    poll_s: float = 1.0  # command pull interval when no NOTIFY arrives
    image_retention_h: float = 24.0  # privacy.referral_image_retention_h

    def __post_init__(self) -> None:
        if self.heartbeat_s <= 0 or self.poll_s <= 0:
            raise ValueError("heartbeat_s and poll_s must be positive")
        if self.image_retention_h < 0:
            raise ValueError("image_retention_h must not be negative")
