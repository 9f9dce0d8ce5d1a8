"""Issue 22, item 4 (reach): on a portrait screen every control a traveller touches lies
in the lower half of the screen, within reach from a wheelchair (docs/traveller.md)."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QApplication

from ui.screenshots import LANGUAGES, SCREENS, layout_problems, render

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
