"""Every traveller screen in every language at the kiosk sizes (1920x1080, 1080x1920,
1024x768): nothing cut, overflowing, broken mid-word or overlapping; no reason code
ever on screen."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.lane.states import LaneState
from policy.codes import REASON_CODES
from policy.messages import REFERRAL_MESSAGE
from ui.i18n import keep_words, spoken
from ui.screenshots import LANGUAGES, LAYOUT_SIZES, SCREENS, layout_problems, render
from ui.traveller.window import TravellerWindow


@pytest.mark.parametrize("high_contrast", [False, True], ids=["normal", "high-contrast"])
def test_no_text_is_cut_or_overlapping(qapp: QApplication, high_contrast: bool) -> None:
    problems: list[str] = []
    count = 0
    for r in render(LANGUAGES, LAYOUT_SIZES, high_contrast=high_contrast):
        count += 1
        problems += [f"{r.language} {r.size} {r.screen}: {p}"
                     for p in layout_problems(r.window, r.size)]
    assert count == len(LANGUAGES) * len(LAYOUT_SIZES) * len(SCREENS)
    assert not problems, "\n".join(problems[:40])


def test_the_layout_check_finds_a_cut_label(qapp: QApplication) -> None:
    for r in render(("en",), ((1920, 1080),), ("place_passport",)):
        label = r.window.progress.title
        label.setFixedHeight(10)  # a label too small for its text
        assert any("cut" in p for p in layout_problems(r.window, r.size))


def test_chinese_breaks_only_between_phrases() -> None:
    text = keep_words("工作人员将为您办理，请前往附近的人工通道。", "zh_CN")
    assert spoken(text) == "工作人员将为您办理，请前往附近的人工通道。"
    # After the comma a line may break; inside 工作人员 it may not.
    i = text.index("员")
    assert text[i - 1] == "\u2060"
    assert text[text.index("，") + 1] != "\u2060"
    assert keep_words("Place your passport", "en") == "Place your passport"


def test_referral_screen_is_the_same_for_every_reason_and_never_names_one(
    qapp: QApplication,
) -> None:
    window = TravellerWindow(LANGUAGES)
    window.show()
    [referred] = SCREENS["referred"]
    try:
        for lang in LANGUAGES:
            window.choose_language(lang)
            seen = set()
            for code in REASON_CODES:
                window.show_snapshot(replace(
                    referred, traveller_reasons=(code,), language=lang,
                    officer={"reasons": [code, "watchlist_hit"], "decision": "refer"}))
                texts = [spoken(t) for t in window.visible_texts()]
                seen.add(tuple(texts))
                joined = " ".join(texts).lower()
                assert "watch" not in joined
                for reason in REASON_CODES:
                    assert reason not in joined
                assert REFERRAL_MESSAGE[lang] in texts
            assert len(seen) == 1, f"{lang}: the referral text depends on the reason"
            assert window.snapshot is not None and window.snapshot.state is LaneState.REFERRED
    finally:
        window.close()


def test_the_boarding_pass_pictogram_is_a_quarter_of_the_screen(qapp: QApplication) -> None:
    for r in render(("en", "ru"), LAYOUT_SIZES, ("boarding_pass",)):
        picture = r.window.boarding_pass.pictogram
        # The figure as painted: the rows of the widget that hold anything but background.
        image = picture.grab().toImage()
        bg = image.pixel(0, 0)
        rows = [y for y in range(image.height())
                if any(image.pixel(x, y) != bg for x in range(0, image.width(), 2))]
        drawn = rows[-1] - rows[0] + 1 if rows else 0
        assert drawn >= r.size[1] / 4, (r.size, drawn)
        assert not layout_problems(r.window, r.size), layout_problems(r.window, r.size)
