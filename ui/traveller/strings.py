"""Every English source string of the traveller screens, one place: Qt's
translation files (ui/translations/egate_*.ts) translate exactly these, and a
test checks that each has a translation in every language."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

CONTEXT = "Traveller"


def tr(text: str) -> str:
    """`text` in the installed language (English when none is)."""
    return QCoreApplication.translate(CONTEXT, text)


@dataclass(frozen=True)
class Step:
    pictogram: str
    title: str
    detail: str
    exit_title: str | None = None  # the wording on an exit lane, when it differs


WELCOME = "Welcome"
LANE_TITLE = "Automated border control"
ARRIVALS = "Arrivals"
DEPARTURES = "Departures"
CHOOSE = "Touch your language to start, or place your passport on the reader"
START_IN = "Start"

# Progress and instruction screens, by the lane's message code.
STEPS: dict[str, Step] = {
    "place_passport": Step("passport", "Place your passport on the reader",
                           "Open it at the photo page and lay it face down"),
    # The passport face down on the reader with the read's progress: keep it there.
    "reading_chip": Step("keep_on_reader", "Reading your passport",
                         "Please leave the passport on the reader"),
    "verifying_document": Step("keep_on_reader", "Checking your passport",
                               "This takes a moment"),
    "deciding": Step("reading", "Checking your entry", "Please wait",
                     exit_title="Checking your departure"),
    "take_passport": Step("take_passport", "Take your passport",
                          "The gate opens when you have taken it"),
    "passport_left": Step("passport_left", "A passport was left on the reader",
                          "If it is yours, please take it. Otherwise please tell an officer."),
    "show_boarding_pass": Step("boarding_pass", "Show your boarding pass to the camera",
                               "Hold the barcode steady in front of the camera"),
}
NO_BOARDING_PASS = "I have no boarding pass"

LOOK_AT_CAMERA = "Look at the camera"
REMOVE_HAT = "Remove your hat and sunglasses"

ADMITTED_TITLE = "Please walk through the gate"
ADMITTED_ENTRY = "Welcome to China"
ADMITTED_EXIT = "Have a good journey"
REFERRED_TITLE = "Please see an officer"
TAKE_IT_WITH_YOU = "Take your passport with you"
ERROR_TITLE = "Sorry, this did not work"
TRY_AGAIN_TITLE = "Please try again"  # a recoverable error's title: calm, not "sorry"
START_AGAIN = "Start again"
# Errors a traveller recovers from by trying again: shown calmly (not as a fault),
# with what to do differently, and their pictograms.
RECOVERABLE = {
    "error_timeout": "try_again_clock",
    "error_card_removed": "try_again_passport",
    "error_mrz_unreadable": "try_again_passport",
}
# Error screens: what happened, and the way forward.
ERRORS: dict[str, tuple[str, str]] = {
    "error_timeout": ("The time ran out.", "Touch Start again to try once more."),
    "error_card_removed": ("The passport was taken away too early.",
                           "Leave it on the reader until you are asked to take it."),
    # The document camera found no valid MRZ (devices.errors.MrzUnreadable): the page.
    "error_mrz_unreadable": ("The passport's data page could not be read.",
                             "Open it at the photo page and lay it flat on the reader, "
                             "out of bright light."),
    "error_device_fault": ("This lane is out of order.",
                           "Please use another lane or see an officer."),
    "error_internal_error": ("This lane is out of order.",
                             "Please use another lane or see an officer."),
}

STEP_PASSPORT = "Passport"
STEP_FACE = "Face"
STEP_BOARDING_PASS = "Boarding pass"
STEP_GATE = "Gate"

HIGH_CONTRAST = "High contrast"
MUTE = "Mute"
UNMUTE = "Sound on"
TIME_LEFT = "Time left: %1 s"
LANGUAGE = "Language"

# What the face pipeline's guidance codes ask of the traveller.
GUIDANCE: dict[str, str] = {
    "too_far": "Please step closer",
    "too_close": "Please step back a little",
    "off_centre": "Please stand in the middle",
    "looking_away": "Please look straight at the camera",
    "too_dark": "Please step into the light",
    "blurred": "Please hold still",
    "hold_still": "Please hold still",
    "eyes_closed": "Please open your eyes",
    # Nobody in the picture: where to stand, not "look" (the title says that already).
    "no_face": "Please step in front of the camera",
    # Only when the face analysis reports a hat or sunglasses, never as a default.
    "hat_or_sunglasses": REMOVE_HAT,
    "multiple_faces": "One person at a time, please",
    "blink": "Please blink",
    "turn_left": "Please turn your head to the left",
    "turn_right": "Please turn your head to the right",
}


def all_sources() -> set[str]:
    """Every string the traveller screens translate."""
    out = {WELCOME, LANE_TITLE, ARRIVALS, DEPARTURES, CHOOSE, START_IN, NO_BOARDING_PASS,
           LOOK_AT_CAMERA, REMOVE_HAT, ADMITTED_TITLE, ADMITTED_ENTRY, ADMITTED_EXIT,
           REFERRED_TITLE, TAKE_IT_WITH_YOU, ERROR_TITLE, TRY_AGAIN_TITLE, START_AGAIN,
           STEP_PASSPORT, STEP_FACE,
           STEP_BOARDING_PASS, STEP_GATE, HIGH_CONTRAST, MUTE, UNMUTE, TIME_LEFT, LANGUAGE}
    for step in STEPS.values():
        out |= {step.title, step.detail}
        if step.exit_title:
            out.add(step.exit_title)
    for pair in ERRORS.values():
        out |= set(pair)
    out |= set(GUIDANCE.values())
    return out
