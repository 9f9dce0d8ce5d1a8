"""Issue 22, item 4 (contrast): every traveller screen, in both contrast modes, at every
kiosk size and in every language, measured against WCAG 2.2 AA: each text 4.5:1 against
what is behind it (measured on the rendered pixels), each graphic 3:1."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from ui.screenshots import LANGUAGES, LAYOUT_SIZES, SCREENS, contrast_problems, render
from ui.traveller.wcag import contrast_ratio, relative_luminance


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # AA grey
    assert relative_luminance("#808080") == pytest.approx(0.2159, abs=1e-4)
    # The examples: white on yellow, dark green on black.
    assert contrast_ratio("#ffffff", "#ffff00") < 1.1
    assert contrast_ratio("#2e7d32", "#000000") < 4.5


@pytest.mark.parametrize("high_contrast", [False, True], ids=["normal", "high-contrast"])
def test_every_screen_meets_wcag_aa(qapp: QApplication, high_contrast: bool) -> None:
    problems: list[str] = []
    count = 0
    for r in render(LANGUAGES, LAYOUT_SIZES, high_contrast=high_contrast):
        count += 1
        problems += [f"{r.language} {r.size} {r.screen}: {p}"
                     for p in contrast_problems(r.window)]
    assert count == len(LANGUAGES) * len(LAYOUT_SIZES) * len(SCREENS)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(sorted(set(
        p.split(": ", 1)[1] for p in problems))[:60])


def test_the_check_finds_text_without_contrast(qapp: QApplication) -> None:
    for r in render(("en",), ((1920, 1080),), ("place_passport",)):
        r.window.progress.title.setStyleSheet("color: #f0f2f4;")  # near the background
        assert any("Place your passport" in p and "text needs" in p
                   for p in contrast_problems(r.window))


def test_the_check_finds_a_faint_step(qapp: QApplication) -> None:
    for r in render(("en",), ((1920, 1080),), ("face",), high_contrast=True):
        r.window.steps.on_accent = r.window.steps.accent.lighter(101)  # number = circle
        r.window.steps.repaint()
        assert any("step 2 number" in p for p in contrast_problems(r.window))
        assert QRect().isNull()


def test_high_contrast_screenshots_have_their_own_names(qapp: QApplication,
                                                       tmp_path: Path) -> None:
    from ui.screenshots import save

    names = []
    for high_contrast in (False, True):
        for r in render(("en",), ((1024, 768),), ("welcome",), high_contrast=high_contrast):
            names.append(save(tmp_path, r).name)
    assert names == ["en-welcome-1024x768.png", "en-welcome-1024x768-high-contrast.png"]
    assert len(list(tmp_path.iterdir())) == 2
