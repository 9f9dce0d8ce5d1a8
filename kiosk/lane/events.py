"""Inputs of the lane: what the traveller and the devices do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Start:
    """The traveller touched 'start' (with the language chosen)."""

    language: str = "en"


@dataclass(frozen=True)
class DocumentPlaced:
    pass


@dataclass(frozen=True)
class DocumentRemoved:
    pass


@dataclass(frozen=True)
class GatePassed:
    """The gate's sensors saw the traveller walk through."""


@dataclass(frozen=True)
class DeviceFailed:
    device: str
    detail: str


@dataclass(frozen=True)
class Cancel:
    """The traveller (or a supervisor) abandoned the transaction."""


@dataclass(frozen=True)
class SkipBoardingPass:
    """The traveller has no boarding pass to show."""


@dataclass(frozen=True)
class OfficerCommand:
    """An officer's decision from the supervisor station, pulled from the border
    database by kiosk.supervisor.agent: admit, refuse or manual for the referral
    `transaction_id`; reset, close or open for the lane. `done(result, detail)`
    hears whether the lane carried it out."""

    command_id: str
    kind: str
    kiosk_id: str
    transaction_id: str | None
    officer_id: str
    reason: str
    text: str = ""
    second_officer_id: str | None = None
    issued_at: datetime | None = None
    done: Callable[[str, str], None] | None = field(default=None, compare=False)
    # "verified" once the agent checked the border's MAC with this kiosk's command
    # key (kiosk.supervisor.command_mac); anything else is why it could not, and
    # the lane then only logs and rejects the command.
    authentication: str = "unverified"


@dataclass(frozen=True)
class ChangeLanguage:
    """The traveller picked another language mid-journey."""

    language: str


LaneEvent = (
    Start
    | DocumentPlaced
    | DocumentRemoved
    | GatePassed
    | DeviceFailed
    | Cancel
    | SkipBoardingPass
    | ChangeLanguage
    | OfficerCommand
)
