"""Carries lane snapshots from the lane's worker thread to the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from kiosk.lane.snapshot import LaneSnapshot


class LaneBridge(QObject):
    """A LaneObserver whose signal Qt queues onto the receiver's (GUI) thread."""

    changed = Signal(object)

    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        self.changed.emit(snapshot)
