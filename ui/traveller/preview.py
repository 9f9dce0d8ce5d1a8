"""Live camera preview: paints the newest frame at the camera's rate, nothing more."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

from devices.protocols import Camera


class CameraPreview(QLabel):
    def __init__(self, parent: QWidget | None = None, fps: float = 30.0) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(320, 240)
        self._camera: Camera | None = None
        self._last_index = -1
        self.frames_painted = 0
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / fps))
        self._timer.timeout.connect(self._refresh)

    def set_camera(self, camera: Camera | None) -> None:
        self._camera = camera

    def start(self) -> None:
        self._last_index = -1
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.clear()

    def _refresh(self) -> None:
        camera = self._camera
        frame = camera.latest() if camera is not None else None
        if frame is None or frame.index == self._last_index:
            return
        self._last_index = frame.index
        img = frame.image
        h, w = img.shape[:2]
        qimage = QImage(img.data, w, h, int(img.strides[0]), QImage.Format.Format_BGR888)
        pixmap = QPixmap.fromImage(qimage).scaled(
            self.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
        self.setPixmap(pixmap)
        self.frames_painted += 1
