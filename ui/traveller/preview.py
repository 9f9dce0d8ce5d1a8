"""Live camera preview: the newest frame, mirrored (a traveller moves as in a
mirror), with an oval face guide and the time left; painted, nothing more."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from devices.protocols import Camera


class CameraPreview(QWidget):
    def __init__(self, parent: QWidget | None = None, fps: float = 30.0,
                 mirrored: bool = True, oval: bool = True) -> None:
        super().__init__(parent)
        self.setMinimumSize(120, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.mirrored = mirrored
        self.oval = oval
        self.progress: float | None = None  # 0..1 of the time used, drawn round the oval
        self.guide_colour = QColor("white")
        self._camera: Camera | None = None
        self._last_index = -1
        self._image: QImage | None = None
        self._pixels: npt.NDArray[np.uint8] | None = None  # keeps the QImage's buffer alive
        self.frames_painted = 0
        self._overlay_key: tuple[object, ...] | None = None
        self._overlay_pixmap: QPixmap | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / fps))
        self._timer.timeout.connect(self._refresh)

    def set_camera(self, camera: Camera | None) -> None:
        self._camera = camera

    def start(self) -> None:
        self._last_index = -1
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.clear()

    def clear(self) -> None:
        """Forget the last frame (no traveller's face stays on screen or in memory)."""
        self._image = None
        self._pixels = None
        self.update()

    def has_frame(self) -> bool:
        return self._image is not None

    def _refresh(self) -> None:
        camera = self._camera
        frame = camera.latest() if camera is not None else None
        if frame is None or frame.index == self._last_index:
            return
        self._last_index = frame.index
        img = np.ascontiguousarray(frame.image)
        h, w = img.shape[:2]
        self._pixels = img
        self._image = QImage(img.data, w, h, int(img.strides[0]), QImage.Format.Format_BGR888)
        self.frames_painted += 1
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#101418"))
        target = QRectF(self.rect())
        if self._image is not None:
            iw, ih = self._image.width(), self._image.height()
            scale = min(self.width() / iw, self.height() / ih)
            w, h = iw * scale, ih * scale
            target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
            p.save()
            if self.mirrored:
                p.translate(target.center().x() * 2, 0)
                p.scale(-1, 1)
            p.drawImage(target, self._image)
            p.restore()
        if self.oval:
            p.drawPixmap(0, 0, self._overlay(target))
            if self.progress is not None:
                oval, width = self._oval(target)
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                left = max(0.0, 1.0 - self.progress)
                p.setPen(QPen(QColor("#ffd54f"), width * 2))
                p.drawArc(oval.adjusted(-width * 2, -width * 2, width * 2, width * 2),
                          90 * 16, int(360 * 16 * left))
        p.end()

    @staticmethod
    def _oval(area: QRectF) -> tuple[QRectF, float]:
        oh = area.height() * 0.72
        ow = oh * 0.74
        oval = QRectF(area.center().x() - ow / 2, area.center().y() - oh / 2 - area.height() * 0.03,
                      ow, oh)
        return oval, max(3.0, area.height() / 120)

    def _overlay(self, area: QRectF) -> QPixmap:
        """The shade outside the oval and the dashed guide, drawn once per size (the
        path arithmetic is too slow to repeat 30 times a second on the GUI thread)."""
        key = (self.width(), self.height(), area.getRect(), self.guide_colour.rgba())
        if self._overlay_key == key and self._overlay_pixmap is not None:
            return self._overlay_pixmap
        pixmap = QPixmap(self.size())
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        oval, width = self._oval(area)
        shade = QPainterPath()
        shade.addRect(area)
        hole = QPainterPath()
        hole.addEllipse(oval)
        p.fillPath(shade.subtracted(hole), QColor(0, 0, 0, 110))
        p.setPen(QPen(self.guide_colour, width, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(oval)
        p.end()
        self._overlay_key = key
        self._overlay_pixmap = pixmap
        return pixmap
