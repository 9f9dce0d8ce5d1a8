"""Inputs of the lane: what the traveller and the devices do."""

from __future__ import annotations

from dataclasses import dataclass


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
)
