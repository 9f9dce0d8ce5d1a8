"""Carries lane snapshots from the lane's worker thread to the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from kiosk.workflow.snapshot import LaneSnapshot
from ui.signals import emit


class LaneBridge(QObject):
    """A LaneObserver whose signal Qt queues onto the receiver's (GUI) thread."""

    changed = Signal(object)

    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        emit(self.changed, snapshot)  # not .emit(): PySide6 6.12.0 leaks (ui/signals.py)
