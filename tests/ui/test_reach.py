"""Issue 22, item 4 (reach): on a portrait screen every control a traveller touches lies
in the lower half of the screen, and within reach from a wheelchair at the mounting
height the config gives (ui.screen_bottom_mm, ui.screen_height_mm; docs/traveller.md)."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QApplication

from kiosk.config import Config
from ui.screenshots import LANGUAGES, SCREENS, layout_problems, render
from ui.traveller.reach import Mounting, out_of_reach

PORTRAIT = (1080, 1920)


def test_every_control_is_in_the_lower_half_on_a_portrait_screen(qapp: QApplication) -> None:
    far: list[str] = []
    for r in render(("en", "ru"), (PORTRAIT,), tuple(SCREENS)):
        for button in r.window.findChildren(QAbstractButton):
            if not button.isVisibleTo(r.window):
                continue
            top = button.mapTo(r.window, button.rect().topLeft()).y()
            if top < PORTRAIT[1] / 2:
                far.append(f"{r.language} {r.screen}: {button.objectName()} at y={top}")
        assert not layout_problems(r.window, r.size), layout_problems(r.window, r.size)
    assert not far, "\n".join(far)


def test_landscape_keeps_the_controls_on_top(qapp: QApplication) -> None:
    for r in render(("en",), ((1920, 1080),), ("place_passport",)):
        assert r.window.top.geometry().top() == 0
    assert LANGUAGES


def test_every_control_within_wheelchair_reach_at_the_configured_mounting(
    qapp: QApplication,
) -> None:
    """EN 301 549 clause 8.3 forward reach (380 to 1220 mm), at the default mounting and
    at a screen mounted lower (its lower edge 650 mm above the floor)."""
    default = Config().ui
    for mounting in (Mounting(default.screen_bottom_mm, default.screen_height_mm),
                     Mounting(650, 598)):
        far: list[str] = []
        for r in render(("en", "ru"), (PORTRAIT,), tuple(SCREENS)):
            far += [f"{r.language} {r.screen}: {p}" for p in out_of_reach(r.window, mounting)]
        assert not far, f"{mounting}:\n" + "\n".join(far)


def test_the_reach_check_finds_controls_too_high(qapp: QApplication) -> None:
    # A portrait screen mounted with its lower edge at 1100 mm: the welcome's language
    # buttons (above the bottom bar) are out of reach, and the check says so in mm.
    high = Mounting(1100, 598)
    problems = [p for r in render(("en",), (PORTRAIT,), ("welcome",))
                for p in out_of_reach(r.window, high)]
    assert any(p.startswith("start_en: ") and "reach: 380 to 1220 mm" in p for p in problems)


def test_mounting_maps_rows_to_heights() -> None:
    m = Mounting(800, 600)
    assert m.height_mm(1920, 1920) == 800 and m.height_mm(0, 1920) == 1400
    first, last = m.reachable_rows(1920)
    assert round(m.height_mm(first, 1920)) == 1220 and last == 1920  # the floor is far
