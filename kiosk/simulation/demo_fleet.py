"""A bank of simulated kiosks producing traffic for `egate supervisor --demo`.

Each kiosk is a kiosk.simulation.simulated_kiosk.SimulatedKiosk (real workflow, chip protocol,
passive authentication, dlib face matching and policy) with its own local
database, a KioskAgent and the border sync, all on one border database. The
kiosks share one face worker process (12 dlib processes would not fit a
two-core machine); it serves one verification at a time.

Simulated travellers behave like people: they walk up at random intervals, take
their passport back when the kiosk returns it (then the gate opens), walk
through an open gate, wait at a referral for the officer (result_display_s is
raised so that the lane holds it) and some of them give up and walk away with
their passport. A passport forgotten on the reader is collected after a while.
With `officer` set, a demo officer (the Station API, like a person at the
station) acts on referrals nobody handled within `officer_after_s`.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

from devices.protocols import Camera
from kiosk.border import BorderSync
from kiosk.clock import Clock, SystemClock
from kiosk.config import Config, parse_config
from kiosk.face.matcher import face_matcher
from kiosk.face.worker import ProcessFaceVerifier
from kiosk.lane.machine import LaneRunner
from kiosk.lane.states import LaneState
from kiosk.ports import FaceVerification
from kiosk.runtime.app import LocalStorage, open_storage
from kiosk.simulation.simulated_kiosk import SAMPLES, SampleTraveller, SimulatedKiosk
from kiosk.supervisor.agent import KioskAgent, command_key
from kiosk.supervisor.settings import AgentSettings
from kiosk.supervisor.station import Station, StationError

log = logging.getLogger(__name__)
S = LaneState
DEMO_KIOSKS = 12
# How long a referred traveller waits at the gate for the officer.
REFERRAL_WAIT_S = 600.0
# Share of referred travellers who give up and walk away with their passport.
WALK_AWAY_P = 0.25


class SharedFace:
    """One face worker behind many lanes: a kiosk's guidance listener is wired to
    the worker only while that kiosk's verification runs."""

    def __init__(self, inner: ProcessFaceVerifier, lock: threading.Lock) -> None:
        self.inner = inner
        self._lock = lock
        self._listener: Callable[[str], None] | None = None

    def set_listener(self, listener: Callable[[str], None] | None) -> None:
        self._listener = listener

    def verify(
        self, reference_rgb: npt.NDArray[np.uint8], camera: Camera, budget_s: float
    ) -> FaceVerification:
        with self._lock:
            self.inner.set_listener(self._listener)
            try:
                return self.inner.verify(reference_rgb, camera, budget_s)
            finally:
                self.inner.set_listener(None)


@dataclass
class DemoKiosk:
    kiosk: SimulatedKiosk
    agent: KioskAgent
    sync: BorderSync | None
    runner: LaneRunner
    travellers: tuple[SampleTraveller, ...]
    next_at: float = 0.0
    # When the simulated person does the next thing in the current state (None:
    # not decided yet); reset on every state change.
    act_at: float | None = None
    seen: LaneState | None = None
    since: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    longest: dict[str, float] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def demo_config(base: Config, index: int, workdir: Path, border_url: str) -> Config:
    return parse_config(
        {
            "kiosk": {
                "id": f"SIM-{base.kiosk.port}-{index:02d}",
                "port": base.kiosk.port,
                "lane": index,
                "direction": base.kiosk.direction,
                "languages": list(base.kiosk.languages),
            },
            "storage": {
                "local_url": f"sqlite:///{workdir}/kiosk-{index:02d}.sqlite",
                "border_url": border_url,
                "sync_interval_s": 5.0,
            },
            # A referral is held result_display_s once the passport is taken, but only
            # document_return_s while it lies on the reader: both are raised.
            "timeouts": {
                "result_display_s": REFERRAL_WAIT_S,
                "document_return_s": REFERRAL_WAIT_S,
                "document_s": 60.0,
            },
            "face": {"threshold": base.face.threshold, "liveness": base.face.liveness},
            "privacy": {"referral_image_retention_h": base.privacy.referral_image_retention_h},
        }
    )


class DemoFleet:
    """`count` simulated kiosks on `border_url`, driven by a traffic thread."""

    def __init__(
        self,
        base: Config,
        workdir: Path,
        border_url: str,
        count: int = DEMO_KIOSKS,
        seed: int = 1,
        mean_gap_s: float = 45.0,
        clock: Clock | None = None,
        officer: Station | None = None,
        officer_after_s: float = 90.0,
        officer_login: tuple[str, str] | None = None,
        first: int = 1,
        walk_away_p: float = WALK_AWAY_P,
        referrals_only: bool = False,
        face_start_timeout_s: float = 180.0,
        face_margin_s: float = 20.0,
    ) -> None:
        self.clock = clock or SystemClock()
        self.rng = random.Random(seed)
        self.mean_gap_s = mean_gap_s
        self.officer = officer
        self.officer_after_s = officer_after_s
        # (id, secret) to sign in again after the idle sign-out (queue reads are
        # not activity, so a quiet hour signs the demo officer out).
        self.officer_login = officer_login
        self.officer_actions: dict[str, int] = {}
        self.walk_away_p = walk_away_p
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.face = ProcessFaceVerifier(
            partial(face_matcher, base.face),
            start_timeout_s=face_start_timeout_s,
            margin_s=face_margin_s,
        )
        lock = threading.Lock()
        passes = [s for s in SAMPLES if s.expect == "admit" and not s.boarding_pass]
        refers = [s for s in SAMPLES if s.expect == "refer"]
        self.kiosks: list[DemoKiosk] = []
        for i in range(first, first + count):
            cfg = demo_config(base, i, workdir, border_url)
            storage: LocalStorage = open_storage(cfg)
            kiosk = SimulatedKiosk(cfg, storage, clock=self.clock)
            # The lane's services object is shared with the lane: swap its verifier
            # before the first traveller (the kiosk's own worker never starts).
            kiosk.services.face = SharedFace(self.face, lock)
            sync = (
                BorderSync(storage.engine, storage.border, cfg.kiosk.id, interval_s=5.0)
                if storage.border is not None
                else None
            )
            if storage.border is None:
                raise RuntimeError(f"{cfg.kiosk.id}: the border database is unavailable")
            agent = KioskAgent(
                kiosk.lane,
                storage.border,
                self.clock,
                AgentSettings(
                    heartbeat_s=2.0,
                    poll_s=0.5,
                    image_retention_h=cfg.privacy.referral_image_retention_h,
                ),
                pending_events=sync.pending if sync else None,
                command_key=command_key(cfg, storage.border, self.clock),
            )
            # A few travellers per kiosk: one who passes, two the officer must see.
            mix: tuple[SampleTraveller, ...] = (
                passes[i % len(passes)],
                refers[i % len(refers)],
                refers[(i + 3) % len(refers)],
            )
            if referrals_only:  # benchmarks/port_scale.py: every traveller needs the officer
                mix = (refers[i % len(refers)], refers[(i + 3) % len(refers)])
            self.kiosks.append(DemoKiosk(kiosk, agent, sync, LaneRunner(kiosk.lane), mix))

    def start(self) -> None:
        self.face.warm_up()
        for k in self.kiosks:
            k.kiosk.camera.start()
            k.runner.start()
            self._threads.append(k.agent.start(self._stop))
            if k.sync is not None:
                self._threads.append(k.sync.start(self._stop))
            k.next_at = self.clock.monotonic() + self.rng.uniform(1.0, self.mean_gap_s / 2)
        traffic = threading.Thread(target=self._traffic, name="demo-traffic", daemon=True)
        traffic.start()
        self._threads.append(traffic)

    def _traffic(self) -> None:
        while not self._stop.wait(0.5):
            for k in self.kiosks:
                try:
                    self._step(k)
                except Exception:  # one kiosk's trouble must not stop the others
                    log.exception("demo traffic on %s failed", k.kiosk.config.kiosk.id)
            if self.officer is not None:
                try:
                    self._officer_step(self.officer)
                except Exception:  # the border database may be away for a while
                    log.exception("demo officer failed")

    def _step(self, k: DemoKiosk) -> None:
        now = self.clock.monotonic()
        lane = k.kiosk.lane
        state = lane.state
        if state is not k.seen:
            if k.seen is not None:
                k.longest[k.seen.value] = max(k.longest.get(k.seen.value, 0.0), now - k.since)
            k.seen, k.since, k.act_at = state, now, None
            k.count(state.value)
        if state is S.ADMITTED:
            self._after(k, now, 1.0, 3.0, k.kiosk.walk_through)
        elif state is S.RETURNING_DOCUMENT:
            # "Take your passport": the traveller does, then the gate opens.
            self._after(k, now, 1.0, 4.0, k.kiosk.remove_passport)
        elif state is S.DOCUMENT_LEFT:
            # A forgotten passport: its owner (or staff) comes back for it.
            self._after(k, now, 5.0, 20.0, k.kiosk.remove_passport)
        elif state is S.ERROR:
            self._after(k, now, 2.0, 6.0, k.kiosk.remove_passport)
        elif state is S.REFERRED:
            if k.act_at is None and self.rng.random() < self.walk_away_p:
                k.act_at = now + self.rng.uniform(20.0, 120.0)
            elif k.act_at is not None and now >= k.act_at:
                k.act_at = float("inf")  # walks away once
                k.count("walked_away")
                k.kiosk.remove_passport()
        elif state is S.IDLE and lane.in_service and now >= k.next_at:
            k.kiosk.remove_passport()
            k.kiosk.present(self.rng.choice(k.travellers))
            k.count("travellers")
            k.next_at = now + self.rng.expovariate(1.0 / self.mean_gap_s) + 5.0

    def _after(
        self, k: DemoKiosk, now: float, low: float, high: float, act: Callable[[], object]
    ) -> None:
        if k.act_at is None:
            k.act_at = now + self.rng.uniform(low, high)
        elif now >= k.act_at:
            k.act_at = float("inf")  # once per visit of the state
            act()

    def _officer_step(self, station: Station) -> None:
        """Act on the oldest referral nobody handled for officer_after_s: admit,
        refuse or send to the desk (watchlist cases go to the desk)."""
        waited = self.officer_after_s
        if station.officer is None and self.officer_login is not None:
            station.sign_in(*self.officer_login)
        now = station.clock.now()
        for s in station.queue():
            if s.status != "open" or (now - s.referred_at).total_seconds() < waited:
                continue
            if s.watchlist:
                action, reason = "manual", "interview_needed"
            else:
                action, reason = self.rng.choice(
                    (
                        ("admit", "identity_confirmed"),
                        ("refuse", "identity_not_confirmed"),
                        ("manual", "interview_needed"),
                    )
                )
            text = "demo officer checked the traveller in person"
            try:
                station.resolve(s.referral_id, action, reason, text)
            except StationError as exc:
                log.info("demo officer: %s %s: %s", action, s.referral_id, exc.message)
                continue
            self.officer_actions[action] = self.officer_actions.get(action, 0) + 1
            return  # one action per step, like a person

    def summary(self) -> dict[str, object]:
        """What the traffic did (for a soak run's report): per kiosk, how often it
        entered each state and the longest time it stayed in one."""
        now = self.clock.monotonic()
        kiosks = {}
        for k in self.kiosks:
            longest = dict(k.longest)
            if k.seen is not None:
                longest[k.seen.value] = max(longest.get(k.seen.value, 0.0), now - k.since)
            kiosks[k.kiosk.config.kiosk.id] = {
                "counts": dict(k.counts),
                "longest_s": {s: round(v, 1) for s, v in longest.items()},
            }
        return {"kiosks": kiosks, "officer_actions": dict(self.officer_actions)}

    def stop(self) -> None:
        self._stop.set()
        for k in self.kiosks:
            k.runner.stop()
        for t in self._threads:
            t.join(5.0)
        for k in self.kiosks:
            k.kiosk.camera.stop()
        self.face.close()

    def get(self, kiosk_id: str) -> DemoKiosk:
        for k in self.kiosks:
            if k.kiosk.config.kiosk.id == kiosk_id:
                return k
        raise KeyError(kiosk_id)
