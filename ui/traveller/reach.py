"""Reach from a wheelchair: which of the traveller's controls a seated traveller can
touch, given how high the screen is mounted (config `[ui]`).

The range is EN 301 549 V3.2.1 clause 8.3 (stationary ICT), unobstructed forward
reach: operable parts no higher than 1220 mm and no lower than 380 mm above the
floor - the figures of the ADA 2010 Standards (308.2.1) and ISO 21542 that ICAO's
guidance for ABC kiosks points to. A control counts as reachable when all of it lies
inside the range (its top edge is what a hand must reach).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QAbstractButton, QWidget

REACH_HIGH_MM = 1220.0
REACH_LOW_MM = 380.0


@dataclass(frozen=True)
class Mounting:
    """The screen's visible area as mounted (config ui.screen_bottom_mm, screen_height_mm)."""

    screen_bottom_mm: float
    screen_height_mm: float

    def height_mm(self, y: float, screen_px: int) -> float:
        """Height above the floor of pixel row `y` of a `screen_px` rows tall screen."""
        return self.screen_bottom_mm + self.screen_height_mm * (1.0 - y / screen_px)

    def reachable_rows(self, screen_px: int) -> tuple[float, float]:
        """(first, last) pixel rows inside the reach range (first > last: none)."""
        per_mm = screen_px / self.screen_height_mm
        first = (self.screen_bottom_mm + self.screen_height_mm - REACH_HIGH_MM) * per_mm
        last = (self.screen_bottom_mm + self.screen_height_mm - REACH_LOW_MM) * per_mm
        return max(0.0, first), min(float(screen_px), last)


def out_of_reach(window: QWidget, mounting: Mounting) -> list[str]:
    """Every visible control of `window` (a full-screen window) outside the reach range,
    with the heights of its top and bottom edges."""
    rows = window.height()
    problems: list[str] = []
    for button in window.findChildren(QAbstractButton):
        if not button.isVisibleTo(window):
            continue
        top = button.mapTo(window, button.rect().topLeft()).y()
        bottom = top + button.height()
        high, low = mounting.height_mm(top, rows), mounting.height_mm(bottom, rows)
        if high > REACH_HIGH_MM or low < REACH_LOW_MM:
            name = button.objectName() or button.accessibleName()
            problems.append(f"{name}: {low:.0f} to {high:.0f} mm above the floor "
                            f"(reach: {REACH_LOW_MM:.0f} to {REACH_HIGH_MM:.0f} mm)")
    return problems
