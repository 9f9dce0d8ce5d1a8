"""The traveller screens' colours, normal and high contrast, in one place: the style
sheet, the step indicator, the pictograms and the outcome screen all paint from here,
and tests/ui/test_contrast.py measures every pair on the rendered screens (WCAG 2.2 AA)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    bg: str  # every screen's background
    ink: str  # text and pictogram outlines on bg
    accent: str  # the current step, pictogram highlights (a graphic on bg)
    on_accent: str  # text on an accent fill (the current step's number)
    done: str  # completed steps (circle, line and name on bg)
    on_done: str  # the tick on a completed step
    action_bg: str  # the big buttons (welcome languages, "no boarding pass")
    action_ink: str
    action_border: str
    switch_ink: str  # a top-bar button that is off: outlined, no fill
    switch_border: str
    switch_on_bg: str  # the one that is on (the active language): filled
    switch_on_ink: str
    outcome: dict[str, str]  # the outcome screen's fill, by kind
    frame: dict[str, str]  # high contrast: the outcome's colour as a frame on black
    on_outcome: str  # text and icon on the outcome fill


NORMAL = Palette(
    bg="#f4f6f8", ink="#1b2b3a", accent="#0a66c2", on_accent="#ffffff",
    done="#2b6e2f", on_done="#ffffff",
    action_bg="#0a66c2", action_ink="#ffffff", action_border="#0a66c2",
    switch_ink="#0a4f96", switch_border="#0a66c2", switch_on_bg="#1b2b3a", switch_on_ink="#ffffff",
    # White on each is at least 7:1 (WCAG AAA for large text).
    # "retry": a recoverable error (time ran out, passport taken too early) in a calm
    # slate, neither the referral's blue nor a fault's red.
    outcome={"admitted": "#0b6b2e", "referred": "#0a4a8c", "error": "#8e1b1b",
             "retry": "#3e5361"},
    frame={},
    on_outcome="#ffffff",
)

HIGH_CONTRAST = Palette(
    bg="#000000", ink="#ffffff", accent="#ffff00", on_accent="#000000",
    done="#ffffff", on_done="#000000",
    action_bg="#000000", action_ink="#ffff00", action_border="#ffff00",
    switch_ink="#ffff00", switch_border="#ffff00", switch_on_bg="#ffff00", switch_on_ink="#000000",
    outcome={"admitted": "#000000", "referred": "#000000", "error": "#000000",
             "retry": "#000000"},
    # Bright enough to be seen on black (at least 3:1, a graphic).
    frame={"admitted": "#33ff66", "referred": "#66ccff", "error": "#ff6666",
           "retry": "#ffffff"},
    on_outcome="#ffffff",
)


def palette(high_contrast: bool) -> Palette:
    return HIGH_CONTRAST if high_contrast else NORMAL
