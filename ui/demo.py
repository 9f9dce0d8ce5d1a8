"""The demo: the traveller window beside a simulator control panel."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.lane.events import ChangeLanguage, SkipBoardingPass, Start
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.simulation.simulated_kiosk import SAMPLES, FaceChoice, SimulatedKiosk
from ui.bridge import LaneBridge
from ui.traveller.speech import make_speaker
from ui.traveller.window import TravellerWindow

FACES: tuple[tuple[FaceChoice, str], ...] = (
    ("same", "The passport holder"),
    ("other", "Someone else"),
    ("photo", "A printed photo of the holder"),
    ("nobody", "Nobody"),
)


class _Ready(QObject):
    done = Signal(str)


class SimulatorPanel(QWidget):
    """What QA and visitors do to the simulated devices. Not part of a real kiosk."""

    def __init__(self, kiosk: SimulatedKiosk) -> None:
        super().__init__()
        self.kiosk = kiosk
        layout = QVBoxLayout(self)
        self.setStyleSheet("QWidget { font-size: 15px; }")
        layout.addWidget(QLabel("<b>Simulator</b>"))
        self.traveller = QComboBox()
        for s in SAMPLES:
            self.traveller.addItem(f"{s.label} ({s.nationality}, expect {s.expect})", s.key)
        layout.addWidget(self.traveller)

        faces = QGroupBox("At the camera")
        face_layout = QVBoxLayout(faces)
        self.face_group = QButtonGroup(self)
        for i, (choice, text) in enumerate(FACES):
            radio = QRadioButton(text)
            radio.setObjectName(f"face_{choice}")
            radio.setChecked(i == 0)
            self.face_group.addButton(radio, i)
            face_layout.addWidget(radio)
        self.face_group.idClicked.connect(self._face_changed)
        layout.addWidget(faces)

        row = QHBoxLayout()
        self.place = QPushButton("Place passport")
        self.remove = QPushButton("Remove passport")
        row.addWidget(self.place)
        row.addWidget(self.remove)
        layout.addLayout(row)
        self.walk = QPushButton("Walk through gate")
        layout.addWidget(self.walk)
        self.status = QLabel("Preparing sample passports...")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Officer view (never shown to the traveller):"))
        self.officer = QPlainTextEdit()
        self.officer.setReadOnly(True)
        layout.addWidget(self.officer, 1)

        self.place.clicked.connect(self._place)
        self.remove.clicked.connect(kiosk.remove_passport)
        self.walk.clicked.connect(kiosk.walk_through)
        self.setEnabled(False)
        self._ready = _Ready()
        self._ready.done.connect(self._prepared)
        # Building signed passports takes a moment: off the GUI thread.
        threading.Thread(target=self._prepare, name="prepare-samples", daemon=True).start()

    def _prepare(self) -> None:
        try:
            self.kiosk.prepare(SAMPLES)
            self._ready.done.emit("")
        except Exception as exc:
            self._ready.done.emit(f"could not prepare samples: {exc}")

    def _prepared(self, error: str) -> None:
        self.setEnabled(not error)
        self.status.setText(error or "Ready: choose a traveller and place the passport.")

    def _choice(self) -> FaceChoice:
        return FACES[max(0, self.face_group.checkedId())][0]

    def _face_changed(self, _id: int) -> None:
        self.kiosk.show_face(self._choice())

    def _place(self) -> None:
        key = self.traveller.currentData()
        traveller = next(s for s in SAMPLES if s.key == key)
        self.kiosk.present(traveller, self._choice())

    def show_snapshot(self, snapshot: LaneSnapshot) -> None:
        self.status.setText(f"Lane: {snapshot.state.value}")
        if snapshot.officer:
            o = snapshot.officer
            lines = [f"decision: {o.get('decision')}  basis: {o.get('basis')}",
                     f"reasons: {', '.join(o.get('reasons', [])) or '-'}"]
            lines += [f"  {line}" for line in o.get("trace", [])]
            checks = o.get("checks", {})
            lines += [f"{k}: {v}" for k, v in checks.items()]
            self.officer.setPlainText("\n".join(lines))


class DemoWindow(QWidget):
    def __init__(self, kiosk: SimulatedKiosk) -> None:
        super().__init__()
        self.setWindowTitle("egate demo (simulated devices)")
        self.kiosk = kiosk
        self.traveller = TravellerWindow(
            kiosk.config.kiosk.languages, kiosk.camera,
            speaker=make_speaker(kiosk.config.kiosk.speech, kiosk.config.kiosk.speech_engine),
            high_contrast=kiosk.config.kiosk.high_contrast,
            officer_desk=kiosk.config.ui.officer_desk,
        )
        self.panel = SimulatorPanel(kiosk)
        self.panel.setFixedWidth(380)
        layout = QHBoxLayout(self)
        # A fixed minimum, set before the window exists, instead of the layout re-setting
        # it at every screen change (the offscreen platform printed "This plugin does not
        # support propagateSizeHints()" each time).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(1024, 640)
        layout.addWidget(self.traveller, 1)
        layout.addWidget(self.panel)
        self.bridge = LaneBridge()
        self.bridge.changed.connect(self.traveller.show_snapshot)
        self.bridge.changed.connect(self.panel.show_snapshot)
        kiosk.lane.add_observer(self.bridge)
        self.traveller.start_requested.connect(lambda lang: kiosk.lane.post(Start(lang)))
        self.traveller.start_again.connect(lambda lang: kiosk.lane.post(Start(lang)))
        self.traveller.language_changed.connect(
            lambda lang: kiosk.lane.post(ChangeLanguage(lang))
        )
        self.traveller.boarding_pass_skipped.connect(
            lambda: kiosk.lane.post(SkipBoardingPass())
        )
        self.resize(1700, 960)
