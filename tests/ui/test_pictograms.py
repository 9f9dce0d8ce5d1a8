"""Issue 22, item 2: pictograms that say what the words say, checked on the painted
pixels of the real window (offscreen): the data page open and laid face down, the
passport kept on the reader with the read's progress, hat and sunglasses only when
the analysis reports them, the officer with an arrow towards the configured desk,
and recoverable errors in a calm "try again" style distinct from referrals and faults."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from kiosk.config import ConfigError, parse_config
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from ui.traveller import pictograms
from ui.traveller import strings as T
from ui.traveller.palette import HIGH_CONTRAST, NORMAL
from ui.traveller.pictograms import Pictogram
from ui.traveller.window import TravellerWindow

S = LaneState
LANGUAGES = ("zh_CN", "en", "ja", "ko", "ru")


def snap(state: LaneState, message: str, **kw: Any) -> LaneSnapshot:
    return LaneSnapshot(state, "t1", "en", message, **kw)


def make_window(qtbot: QtBot, **kw: Any) -> TravellerWindow:
    w = TravellerWindow(LANGUAGES, **kw)
    qtbot.addWidget(w)
    w.fit_to(1080, 1920)
    w.show()
    w.choose_language("en")
    return w


def pixels(widget: Pictogram, phase: float) -> np.ndarray:
    """The pictogram painted at `phase` of its loop, as an RGB array, cut from the whole
    window's picture (so its real background is behind it)."""
    widget._timer.stop()  # a still, not a moving picture
    widget.phase = phase
    window = widget.window()
    image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * h)
    rgb = raw.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3)
    top_left = widget.mapTo(window, widget.rect().topLeft())
    x, y = top_left.x(), top_left.y()
    return rgb[y: y + widget.height(), x: x + widget.width()].copy()


def near(rgb: np.ndarray, colour: str, tolerance: int = 24) -> np.ndarray:
    c = QColor(colour)
    target = np.array([c.red(), c.green(), c.blue()], np.int16)
    return np.abs(rgb.astype(np.int16) - target).max(axis=2) <= tolerance


def test_the_passport_is_shown_open_at_the_data_page_then_face_down(qtbot: QtBot) -> None:
    w = make_window(qtbot)
    w.show_snapshot(snap(S.WAITING_FOR_DOCUMENT, "place_passport", deadline_s=60.0))
    picture = w.progress.pictogram
    assert picture.kind == "passport"
    opened = pixels(picture, 0.0)
    # Open: white pages with the photo and the machine-readable lines, no cover.
    assert near(opened, pictograms.PAGE, 4).sum() > 2000
    assert near(opened, pictograms.PAGE_INK, 12).sum() > 300
    assert near(opened, pictograms.BOOKLET_COVER).sum() == 0
    laid = pixels(picture, 0.95)
    # Turned over onto the reader: the cover is up, the data page (white) is hidden.
    assert near(laid, pictograms.BOOKLET_COVER).sum() > 2000
    assert near(laid, pictograms.PAGE, 4).sum() < near(opened, pictograms.PAGE, 4).sum() / 10
    # and it lies lower (on the reader) than the open passport was shown.
    rows_open = np.nonzero(near(opened, pictograms.PAGE, 4).any(axis=1))[0]
    rows_laid = np.nonzero(near(laid, pictograms.BOOKLET_COVER).any(axis=1))[0]
    assert rows_laid.mean() > rows_open.mean()


def test_while_the_chip_is_read_the_passport_stays_on_the_reader_with_progress(
    qtbot: QtBot,
) -> None:
    w = make_window(qtbot)
    w.show_snapshot(snap(S.READING_CHIP, "reading_chip", document_on_reader=True))
    picture = w.progress.pictogram
    assert picture.kind == "keep_on_reader"
    assert "Please leave the passport on the reader" in w.visible_texts()
    first = picture.progress()
    assert first is not None and 0.0 <= first < 0.7
    qtbot.waitUntil(lambda: (picture.progress() or 0.0) > first + 0.05, timeout=5000)
    assert (picture.progress() or 1.0) < 0.7  # never full while the chip is still read
    # The bar is painted in the accent colour and grows with the progress.
    painted = near(pixels(picture, 0.0), NORMAL.accent, 30).sum()
    assert painted > 0
    w.show_snapshot(snap(S.VERIFYING_DOCUMENT, "verifying_document", document_on_reader=True))
    assert picture.kind == "keep_on_reader"
    checking = picture.progress()
    assert checking is not None and 0.7 <= checking < 0.95  # on from where it was


def test_the_hat_pictogram_only_when_the_analysis_reports_one(qtbot: QtBot) -> None:
    w = make_window(qtbot)
    for guidance in (None, "too_far", "no_face", "hold_still"):
        w.show_snapshot(snap(S.CAPTURING_FACE, "look_at_camera", guidance=guidance,
                             deadline_s=10.0))
        assert not w.face.hint.isVisibleTo(w), guidance
    w.show_snapshot(snap(S.CAPTURING_FACE, "look_at_camera", guidance="hat_or_sunglasses",
                         deadline_s=10.0))
    assert w.face.hint.isVisibleTo(w) and w.face.hint.kind == "hat_or_sunglasses"
    assert w.face.hint.height() > 0
    w.show_snapshot(snap(S.CAPTURING_FACE, "look_at_camera", guidance="hold_still",
                         deadline_s=10.0))
    assert not w.face.hint.isVisibleTo(w)


def arrow_offset(w: TravellerWindow) -> tuple[float, float]:
    """Where the referral icon's arrow points, from its band below the desk: the x of
    its tallest column (the arrowhead, or the upright shaft), relative to the icon's
    centre in fractions of the square, and the band's vertical extent."""
    icon = w.result.icon
    rgb = pixels(icon, 0.0)
    h, wd = rgb.shape[:2]
    side = min(h, wd)
    x0, y0 = (wd - side) // 2, (h - side) // 2
    band = near(rgb[y0 + int(side * 0.78): y0 + side, x0: x0 + side], "#ffffff", 40)
    ys, xs = np.nonzero(band)
    assert xs.size > 50, "no arrow painted"
    tallest = int(np.argmax(band.sum(axis=0)))
    return (tallest - side / 2) / side, (ys.max() - ys.min()) / side


@pytest.mark.parametrize("desk", ["left", "right", "ahead"])
def test_the_referral_arrow_points_to_the_configured_desk(qtbot: QtBot, desk: str) -> None:
    config = parse_config({"ui": {"officer_desk": desk}})
    w = make_window(qtbot, officer_desk=config.ui.officer_desk)
    w.show_snapshot(snap(S.REFERRED, "see_officer", document_on_reader=True))
    assert w.result.icon.kind == "officer" and w.result.icon.direction == desk
    x, extent = arrow_offset(w)
    if desk == "left":
        assert x < -0.15
    elif desk == "right":
        assert x > 0.15
    else:  # straight on: an upright arrow in the middle
        assert abs(x) < 0.03 and extent > 0.15


def test_a_desk_direction_not_known_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"ui\.officer_desk"):
        parse_config({"ui": {"officer_desk": "behind"}})


def test_recoverable_errors_are_calm_and_distinct(qtbot: QtBot) -> None:
    w = make_window(qtbot)
    seen: dict[str, tuple[str, str, bool]] = {}
    titles: dict[str, str] = {}
    for name, snapshot in {
        "timeout": snap(S.ERROR, "error_timeout", deadline_s=8.0),
        "removed": snap(S.ERROR, "error_card_removed", deadline_s=8.0),
        "unread": snap(S.ERROR, "error_mrz_unreadable", deadline_s=8.0),
        "fault": snap(S.ERROR, "error_device_fault", document_on_reader=True),
        "referred": snap(S.REFERRED, "see_officer", document_on_reader=True),
    }.items():
        w.show_snapshot(snapshot)
        seen[name] = (w.result.colour().name(), w.result.icon.kind,
                      w.result.button.isVisibleTo(w))
        titles[name] = w.result.title.raw
    assert seen["timeout"] == (NORMAL.outcome["retry"], "try_again_clock", True)
    assert seen["removed"] == (NORMAL.outcome["retry"], "try_again_passport", True)
    # A data page the document camera could not read: lay it again, not "out of order".
    assert seen["unread"] == (NORMAL.outcome["retry"], "try_again_passport", True)
    assert titles["unread"] == T.TRY_AGAIN_TITLE
    assert seen["fault"][:2] == (NORMAL.outcome["error"], "error")
    assert seen["referred"][:2] == (NORMAL.outcome["referred"], "officer")
    assert len({seen["timeout"][0], seen["fault"][0], seen["referred"][0]}) == 3
    assert titles["timeout"] == titles["removed"] == T.TRY_AGAIN_TITLE  # calm, no "sorry"
    assert titles["fault"] == T.ERROR_TITLE
    # High contrast: black for all, told apart by their frames.
    assert len({HIGH_CONTRAST.frame[k] for k in ("retry", "error", "referred")}) == 3
