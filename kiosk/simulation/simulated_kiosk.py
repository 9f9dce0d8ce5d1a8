"""The simulated lane: sample travellers, their passports and camera scenes,
wired to the real workflow, chip protocol, passive authentication, face and
policy code. Used by `egate demo`, `egate simulate lane` and the journey tests.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devices.camera.opencv import OpenCvCamera
from devices.icao9303.pcsc import pcsc_document_reader
from devices.protocols import Camera, DocumentReader, MrzKey
from devices.simulated.boarding_pass import Leg, bcbp, boarding_pass_scene
from devices.simulated.camera import SimulatedCamera
from devices.simulated.chip_reader import SimulatedDocumentReader
from devices.simulated.contactless import ISO14443_424K, ContactlessProfile
from devices.simulated.emulator import Misbehaviour
from devices.simulated.factory import DocumentSpec, make_document
from devices.simulated.gate import SimulatedGate
from devices.simulated.mrz import SimulatedMrzSource
from devices.simulated.pki import TestPki, make_test_pki
from devices.simulated.scenes import (
    empty_scene,
    live_scene,
    portrait_jpeg,
    printed_photo_scene,
)
from devices.simulated.virtual_passport import VirtualPassport
from kiosk.border import BorderSync
from kiosk.border.publish import ApiRecord, add_api
from kiosk.clock import Clock, SystemClock
from kiosk.config import Config, ConfigError
from kiosk.decision.journey.carrier_keys import KIND_CARRIER_KEY, sign_boarding_pass
from kiosk.lane.events import SkipBoardingPass
from kiosk.lane.facts import PORT_TIMEZONE, DocumentFacts
from kiosk.lane.machine import Lane, LaneDevices, LaneServices
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from kiosk.runtime.app import LocalStorage, build_services
from kiosk.runtime.production import StateLog
from kiosk.trust.store import KIND_ANCHOR

FaceChoice = Literal["same", "other", "photo", "nobody"]


def _camera_source(text: str) -> int | str:
    """devices.camera_source: a device index, else a file or stream URL."""
    return int(text) if text.isdigit() else text


@dataclass(frozen=True)
class DeviceTiming:
    """How the simulated devices and traveller take their time (docs/performance.md).

    `reader`: the contactless timing profile (None: the chip answers at once);
    `walk_s`: from laying the passport down to standing at the camera, which shows
    nobody until then; `camera_fps`: the simulated camera's frame rate."""

    name: str
    reader: ContactlessProfile | None = None
    walk_s: float = 0.0
    camera_fps: float = 30.0


INSTANT = DeviceTiming("instant")
REALISTIC = DeviceTiming("realistic", reader=ISO14443_424K, walk_s=1.5)
DEVICE_TIMINGS = {t.name: t for t in (INSTANT, REALISTIC)}

OTHER = {"collins": "hopper", "hopper": "collins"}
SCENE_SEEDS = {"collins": 1, "hopper": 2}


@dataclass(frozen=True)
class Onward:
    destination: str  # ISO 3166 alpha-3 (or HKG/MAC/TWN)
    hours_after_arrival: float
    departure_port: str = "CSX"
    confirmed: bool = True


@dataclass(frozen=True)
class SampleTraveller:
    key: str
    label: str
    surname: str
    given_names: str
    nationality: str
    document_number: str
    birth_date: date
    sex: str
    portrait: str  # the chip photo: "collins" or "hopper"
    face: FaceChoice = "same"  # who stands at the camera
    arrived_from: str | None = None
    onward: Onward | None = None
    defects: tuple[str, ...] = ()
    boarding_pass: bool = False  # carries a pass to show when the API has nothing
    # The pass carries its carrier's signature (the simulated carriers' key, which
    # the simulated kiosk's reference data holds); False: a self-printed pass.
    boarding_pass_signed: bool = True
    expect: Literal["admit", "refer"] = "admit"

    @property
    def issuing_state(self) -> str:
        return self.nationality


SAMPLES: tuple[SampleTraveller, ...] = (
    SampleTraveller("chn-citizen", "Chinese citizen returning home", "ZHANG", "LI", "CHN",
                    "E12345678", date(1985, 5, 17), "F", "collins"),
    SampleTraveller("usa-transit-240h", "US transit passenger, Tokyo to Seoul", "COLLINS",
                    "EILEEN", "USA", "X1234567", date(1956, 11, 19), "F", "collins",
                    arrived_from="JPN", onward=Onward("KOR", 96)),
    SampleTraveller("gbr-transit-240h", "British transit passenger, Bangkok to Hong Kong",
                    "HOPPER", "GRACE", "GBR", "509876543", date(1946, 12, 9), "F", "hopper",
                    arrived_from="THA", onward=Onward("HKG", 200)),
    SampleTraveller("usa-face-mismatch", "Someone else in front of the camera", "COLLINS",
                    "EILEEN", "USA", "X7654321", date(1956, 11, 19), "F", "collins",
                    face="other", arrived_from="JPN", onward=Onward("KOR", 48), expect="refer"),
    SampleTraveller("deu-expired", "German passport that has expired", "HOPPER", "GRACE",
                    "DEU", "C01X00T47", date(1946, 12, 9), "F", "hopper", arrived_from="SGP",
                    onward=Onward("JPN", 30), defects=("expired",), expect="refer"),
    SampleTraveller("fra-tampered", "French passport with altered chip data", "COLLINS",
                    "EILEEN", "FRA", "18AB12345", date(1956, 11, 19), "F", "collins",
                    arrived_from="KOR", onward=Onward("JPN", 30), defects=("tampered_dg1",),
                    expect="refer"),
    SampleTraveller("usa-same-country", "US passenger flying back to the US", "HOPPER",
                    "GRACE", "USA", "X5550001", date(1946, 12, 9), "F", "hopper",
                    arrived_from="USA", onward=Onward("USA", 50), expect="refer"),
    SampleTraveller("aus-no-onward", "Australian without an onward ticket", "COLLINS",
                    "EILEEN", "AUS", "PA1234567", date(1956, 11, 19), "F", "collins",
                    expect="refer"),
    SampleTraveller("can-boarding-pass", "Canadian transit passenger, boarding pass only",
                    "HOPPER", "GRACE", "CAN", "AB123456", date(1946, 12, 9), "F", "hopper",
                    arrived_from="JPN", onward=Onward("KOR", 50), boarding_pass=True),
    SampleTraveller("gbr-impostor", "Someone else with a British transit passport", "HOPPER",
                    "GRACE", "GBR", "508765432", date(1946, 12, 9), "F", "hopper",
                    face="other", arrived_from="THA", onward=Onward("HKG", 200), expect="refer"),
    SampleTraveller("chn-printed-photo", "A printed photo held up to the camera", "ZHANG",
                    "LI", "CHN", "E87654321", date(1985, 5, 17), "F", "collins", face="photo",
                    expect="refer"),
)


def sample(key: str) -> SampleTraveller:
    for s in SAMPLES:
        if s.key == key:
            return s
    raise KeyError(f"no sample traveller {key!r} (have {', '.join(s.key for s in SAMPLES)})")


def traveller_mix(count: int, seed: int) -> list[SampleTraveller]:
    """A reproducible mix: about half pass, a quarter are impostors at the camera
    (someone else, a printed photo) interleaved with them, the rest cover the other
    referral reasons."""
    rng = random.Random(seed)
    passes = [s for s in SAMPLES if s.expect == "admit"]
    impostors = [s for s in SAMPLES if s.expect == "refer" and s.face != "same"]
    refers = [s for s in SAMPLES if s.expect == "refer" and s.face == "same"]
    out = []
    for _ in range(count):
        r = rng.random()
        out.append(rng.choice(passes if r < 0.5 else impostors if r < 0.75 else refers))
    return out


@dataclass(frozen=True)
class Presentation:
    """When a traveller stepped up, in the camera's frame indices: the first frame of
    their scene, and the newest frame when the passport was laid on the reader."""

    traveller: str
    document_number: str
    scene_first_frame: int
    document_frame: int | None


@dataclass
class _Arrival:
    traveller: SampleTraveller
    arrived_at: datetime


# The simulated carriers' signing key (deterministic; a test key, never a real
# carrier's). Its public half is in every simulated kiosk's reference data, as
# the border would distribute a carrier's key.
SIM_CARRIER_KEY = ec.derive_private_key(0x51_CA_44_1E_4, ec.SECP256R1())
SIM_CARRIERS = ("NH", "KE")


def sim_carrier_pem() -> bytes:
    return SIM_CARRIER_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass
class SimulatedKiosk:
    """A whole lane on simulated devices. Passports are built once per sample."""

    config: Config
    storage: LocalStorage
    clock: Clock = field(default_factory=SystemClock)
    timing: DeviceTiming = INSTANT

    def __post_init__(self) -> None:
        self._pki: dict[tuple[str, date], TestPki] = {}
        self._anchored: dict[str, date] = {}  # the day of each state's trusted CSCA
        self._passports: dict[tuple[SampleTraveller, date], VirtualPassport] = {}
        self._by_document: dict[str, _Arrival] = {}
        self._lock = threading.Lock()
        self.current: SampleTraveller | None = None
        # False: asked for a boarding pass, the traveller shows nothing and touches
        # nothing (a scenario waiting out timeouts.boarding_pass_s).
        self.answers_boarding_pass = True
        self.presentations: list[Presentation] = []
        self._arrival: threading.Timer | None = None  # the traveller's walk to the camera
        devices = self.config.devices
        for key in ("gate", "mrz_source"):
            if getattr(devices, key) == "real":
                # No gate controller or page reader driver ships with egate yet:
                # refuse rather than pretend.
                raise ConfigError(f"devices.{key}: 'real' has no driver in this build; "
                                  "use 'simulated'")
        # A real PC/SC reader works with passports served by `egate chip serve` (or
        # real ones whose MRZ the panel's traveller supplies); a real camera is a webcam.
        self.reader: DocumentReader = (
            pcsc_document_reader(devices.reader_name)
            if devices.reader == "real"
            else SimulatedDocumentReader(profile=self.timing.reader)
        )
        self.gate = SimulatedGate()
        self.scenes = SimulatedCamera(empty_scene(), fps=self.timing.camera_fps, loop=True)
        self.camera: Camera = (
            OpenCvCamera(_camera_source(devices.camera_source))
            if devices.camera == "real"
            else self.scenes
        )
        self.mrz = SimulatedMrzSource(self._current_key)
        # Journeys come from advance passenger information that present() files in
        # the border database (or its stand-in), read back by the real lookup.
        self.services: LaneServices = build_services(
            self.config,
            self.storage,
            self.clock,
            journey=None if self.storage.border_api is not None else self._journey,
        )
        self.lane = Lane(
            self.config,
            LaneDevices(self.reader, self.mrz, self.camera, self.gate),
            self.services,
            self.storage.events,
            self.clock,
        )
        self.lane.add_observer(self)
        # The production kiosk's journal of lane states, at debug level here: a
        # simulated run stays quiet unless [logging] level = "debug" asks for it.
        self.lane.add_observer(StateLog(logging.DEBUG))
        for carrier in SIM_CARRIERS:
            self.storage.reference.put(KIND_CARRIER_KEY, f"{carrier}:sim", sim_carrier_pem(),
                                       "simulator test carrier key")

    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        """The simulated traveller reacts to the screen: when asked for a boarding
        pass, shows it to the camera, or says at once that there is none."""
        if snapshot.state is not LaneState.SCANNING_BOARDING_PASS or not self.answers_boarding_pass:
            return
        t = self.current
        if t is not None and t.boarding_pass:
            self.scenes.set_source(self.boarding_pass_scene(t), loop=True)
        else:
            self.lane.post(SkipBoardingPass())

    def boarding_pass_scene(self, t: SampleTraveller) -> tuple[Any, ...]:
        arrival = self._by_document.get(t.document_number)
        now = arrival.arrived_at if arrival else self.clock.now()
        local = now.astimezone(PORT_TIMEZONE)
        hours = t.onward.hours_after_arrival if t.onward else 24
        onward_day = (local + timedelta(hours=hours)).date()
        origin = {"JPN": "NRT", "KOR": "ICN", "USA": "LAX", "THA": "BKK"}.get(
            t.arrived_from or "", "NRT"
        )
        dest = {"KOR": "ICN", "JPN": "NRT", "HKG": "HKG", "USA": "LAX"}.get(
            t.onward.destination if t.onward else "", "ICN"
        )
        text = bcbp(t.surname, t.given_names, [
            Leg(origin, "CSX", "NH", "934", local.date()),
            Leg("CSX", dest, "KE", "834", onward_day),
        ])
        if t.boarding_pass_signed:
            text = sign_boarding_pass(text, SIM_CARRIER_KEY)
        return boarding_pass_scene(text)

    # -- set-up ----------------------------------------------------------------------
    def _issue_day(self) -> date:
        """The day the simulated authorities issue on: the day before the kiosk
        clock's (a scenario pins that clock to any instant, so certificates and
        passports are dated from it, never from the machine's time)."""
        return self.clock.now().astimezone(UTC).date() - timedelta(days=1)

    def pki(self, country: str) -> TestPki:
        """One test CSCA per issuing state (same keys, dated from the clock's day),
        trusted by this kiosk's store."""
        day = self._issue_day()
        with self._lock:
            pki = self._pki.get((country, day))
            if pki is None:
                pki = make_test_pki(country, now=datetime.combine(day, time(0), tzinfo=UTC))
                self._pki[(country, day)] = pki
            if self._anchored.get(country) != day:
                # The CSCA certificate of the clock's day (an earlier day's would not
                # yet be valid when a scenario pins an earlier clock). The lane's trust
                # store follows the reference data on its own.
                self.storage.reference.put(
                    KIND_ANCHOR, f"sim-{country}", pki.csca_der(), "simulator test PKI"
                )
                self._anchored[country] = day
            return pki

    def passport(self, traveller: SampleTraveller) -> VirtualPassport:
        # By the whole traveller and the issue day, not the key alone: two travellers
        # that share a key (two scenario files) never get each other's passport.
        day = self._issue_day()
        cached = self._passports.get((traveller, day))
        if cached is not None:
            return cached
        spec = DocumentSpec(
            issuing_state=traveller.issuing_state,
            surname=traveller.surname,
            given_names=traveller.given_names,
            document_number=traveller.document_number,
            nationality=traveller.nationality,
            birth_date=traveller.birth_date,
            sex=traveller.sex,
            optional_data="",
            face_image=portrait_jpeg(traveller.portrait),
            issuing_authority=f"{traveller.issuing_state} PASSPORT AUTHORITY",
        )
        passport = make_document(
            spec, pki=self.pki(traveller.issuing_state), defects=traveller.defects, now=day
        )
        self._passports[(traveller, day)] = passport
        return passport

    def prepare(self, travellers: list[SampleTraveller] | tuple[SampleTraveller, ...]) -> None:
        """Build the passports, camera scenes and face models before any traveller
        arrives, so that presenting one (from a GUI click) is instant."""
        for t in travellers:
            self.passport(t)
            self.prepare_scenes(t)
        warm_up = getattr(self.services.face, "warm_up", None)
        if callable(warm_up):
            warm_up()
        self.confirm_reference_data()

    def prepare_scenes(self, traveller: SampleTraveller) -> None:
        """The camera scenes a traveller can bring (each made once, then cached)."""
        for choice in ("same", "other", "photo"):
            self._scene(choice, traveller)

    def confirm_reference_data(self) -> None:
        """As a kiosk does at start: one pull from the border database, so the
        reference data has an age (a kiosk that never synced refers everyone)."""
        if self.storage.border is not None:
            BorderSync(self.storage.engine, self.storage.border, self.config.kiosk.id).pull()

    def close(self) -> None:
        """Stop the camera and the face worker process."""
        self._cancel_walk()
        self.camera.stop()
        close = getattr(self.services.face, "close", None)
        if callable(close):
            close()

    # -- what the traveller does -------------------------------------------------
    def present(
        self,
        traveller: SampleTraveller,
        face: FaceChoice | None = None,
        misbehaviour: Misbehaviour | None = None,
    ) -> None:
        """Walk up: show a face to the camera and lay the passport on the reader
        (optionally a chip that misbehaves, e.g. leaves the field mid-read). With a
        walk (timing.walk_s) the camera shows nobody until the traveller reaches it."""
        passport = self.passport(traveller)
        self._cancel_walk()
        choice = face or traveller.face
        walk = self.timing.walk_s
        first = self.show_face("nobody" if walk > 0 else choice, traveller)
        arrival = _Arrival(traveller, self.clock.now())
        with self._lock:
            self.current = traveller
            self._by_document[traveller.document_number] = arrival
        self._file_api(arrival)
        newest = self.camera.latest()
        self.presentations.append(Presentation(
            traveller.key, traveller.document_number, first,
            newest.index if newest is not None else None,
        ))  # fmt: skip
        if walk > 0:
            number = len(self.presentations) - 1
            self._arrival = threading.Timer(walk, self._reach_camera, (number, choice, traveller))
            self._arrival.daemon = True
            self._arrival.start()
        if isinstance(self.reader, SimulatedDocumentReader):
            self.reader.place(passport, misbehaviour)

    def _reach_camera(self, number: int, face: FaceChoice, traveller: SampleTraveller) -> None:
        """The end of the walk: the traveller's face (or photo) is in front of the camera."""
        with self._lock:
            if number != len(self.presentations) - 1:
                return  # the next traveller has stepped up meanwhile
            first = self.show_face(face, traveller)
            self.presentations[number] = replace(
                self.presentations[number], scene_first_frame=first
            )

    def _cancel_walk(self) -> None:
        timer, self._arrival = self._arrival, None
        if timer is not None:
            timer.cancel()
            if timer is not threading.current_thread():
                timer.join()

    def _file_api(self, arrival: _Arrival) -> None:
        """What the airline sends ahead: the arrival and onward flights."""
        border = self.storage.border
        journey = self._journey_of(arrival)
        if border is None or journey is None:
            return
        onward = journey["onward"]
        add_api(border, ApiRecord(
            document_number=arrival.traveller.document_number,
            issuing_state=arrival.traveller.issuing_state,
            flight_date=arrival.arrived_at.astimezone(PORT_TIMEZONE).date(),
            arrived_from=journey["arrived_from"],
            flight="NH934",
            destination=onward["destination"],
            departure_time=datetime.fromisoformat(onward["departure_time"]),
            departure_port=onward["departure_port"],
            onward_flight="KE834",
            confirmed=onward["confirmed"],
        ))  # fmt: skip

    def show_face(self, face: FaceChoice, traveller: SampleTraveller | None = None) -> int:
        """Put `face` in front of the camera; the index of its scene's first frame."""
        scene = self._scene(face, traveller or self.current)
        return self.scenes.set_source(scene, loop=True, moving=face in ("same", "other"))

    @staticmethod
    def _scene(face: FaceChoice, traveller: SampleTraveller | None) -> tuple[Any, ...]:
        portrait = traveller.portrait if traveller else "collins"
        if face == "same":
            return live_scene(portrait, seed=SCENE_SEEDS[portrait])
        if face == "other":
            return live_scene(OTHER[portrait], seed=7)
        if face == "photo":
            return printed_photo_scene(portrait)
        return empty_scene()

    def remove_passport(self) -> None:
        if isinstance(self.reader, SimulatedDocumentReader):
            self.reader.remove()

    def walk_through(self) -> bool:
        return self.gate.walk_through()

    # -- reference data the lane asks for ------------------------------------------
    def _current_key(self) -> MrzKey | None:
        t = self.current
        return self.passport(t).mrz_key() if t else None

    def _journey(self, facts: DocumentFacts, now: datetime) -> Mapping[str, Any] | None:
        """Without a border database: the simulated flight's journey, kept in memory."""
        arrival = self._by_document.get(facts.document_number)
        return self._journey_of(arrival) if arrival else None

    @staticmethod
    def _journey_of(arrival: _Arrival) -> dict[str, Any] | None:
        """The journey advance passenger information reports for a sample traveller."""
        if arrival.traveller.onward is None:
            return None
        if arrival.traveller.boarding_pass:
            return None  # no advance passenger information: the pass must be shown
        t = arrival.traveller
        assert t.onward is not None
        departure = arrival.arrived_at + timedelta(hours=t.onward.hours_after_arrival)
        return {
            "arrived_from": t.arrived_from,
            "onward": {
                "destination": t.onward.destination,
                "departure_time": departure.astimezone(PORT_TIMEZONE).isoformat(),
                "departure_port": t.onward.departure_port,
                "confirmed": t.onward.confirmed,
            },
        }
