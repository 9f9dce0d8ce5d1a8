"""QA scenarios as data: a YAML file describes a traveller, what they do and when,
and what the lane must show, say and decide; `run_scenarios` plays it through the
real lane (simulated devices, real chip protocol, trust, face and policy code).

The screen side is pluggable (`ScreenProbe`): without a window the lane's own
snapshots are the screens; `egate scenario run --ui offscreen` and the tests use
the real Qt traveller window (ui.scenario_probe), which also records speech.

Format (docs/traveller.md "Scenarios"):

    name: face-mismatch
    config: {timeouts: {face_s: 4}}          # merged into the kiosk configuration
    traveller: {sample: usa-face-mismatch}   # or spec: {...}; face: same|other|photo|nobody
    steps:                                   # each a one-key mapping, run in order
      - start: en                            # touch a language on the welcome screen
      - expect: place_passport               # wait (default 30 s) for that screen
      - place_passport: {}
      - expect: {screen: see_officer, within: 40}
    expect: {outcome: referred, reasons: [face_mismatch], gate_opened: false,
             spoken: [{language: en, contains: "see an officer"}]}
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import msgspec
from msgspec.structs import replace  # the config sections are msgspec Structs
from sqlalchemy import delete
from sqlalchemy.orm import Session

from devices.simulated.emulator import Misbehaviour
from devices.simulated.factory import DEFECTS
from kiosk.border.models import AdvancePassengerInfo
from kiosk.config import Config, parse_config
from kiosk.lane.events import Cancel, ChangeLanguage, SkipBoardingPass, Start
from kiosk.lane.machine import LaneRunner
from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState
from kiosk.safe_files import UnsafeFileError, read_text_input
from kiosk.simulation.scenario_clock import DEFAULT_CLOCK, PinnedClock
from kiosk.simulation.scenario_schema import (
    ACTION_ARGS,
    ACTIONS,
    FACES,
    OUTCOMES,
    Checker,
    Expect,
    Placement,
    ScenarioFile,
    SchemaError,
    ScreenAbsent,
    ScreenWait,
    TravellerSection,
    TravellerSpec,
)
from kiosk.simulation.simulated_kiosk import (
    SAMPLES,
    FaceChoice,
    Onward,
    SampleTraveller,
    SimulatedKiosk,
    sample,
)
from kiosk.trust.store import KIND_ANCHOR
from policy.codes import REASON_CODES, SENSITIVE_CODES

S = LaneState
DEFAULT_WITHIN_S = 30.0


class ScenarioError(ValueError):
    """The scenario file itself is wrong (names the file and the field)."""


# A scenario is sandboxed: it runs on its own temporary databases and simulated
# devices, so a file naming a real kiosk's database, log key, devices or pack
# directory is refused (its simulated admissions would otherwise be appended,
# sealed and pushed to a real border). `border: offline` stands for the one
# storage setting a scenario needs.
SANDBOXED = ("storage", "devices", "policy.pack_dir")
OFFLINE_BORDER = "postgresql+psycopg://egate@127.0.0.1:9/none?connect_timeout=1"
SCENARIO_MAX_BYTES = 256 * 1024
YAML_MAX_DEPTH = 20
YAML_MAX_EVENTS = 20_000


def _sandboxed(config: Mapping[str, Any], where: str) -> None:
    for key in SANDBOXED:
        section, _, name = key.partition(".")
        value = config.get(section)
        if value is None:
            continue
        if not name:
            raise ScenarioError(f"{where}: config.{key} is not allowed: a scenario runs on its "
                                "own temporary storage and simulated devices")
        if isinstance(value, Mapping) and name in value:
            raise ScenarioError(f"{where}: config.{key} is not allowed: a scenario uses the "
                                "shipped packs only")


def safe_yaml(text: str, where: str) -> Any:
    """YAML as plain data, refusing anchors and aliases (a 388-byte "billion
    laughs" file expands to gigabytes) and bounding nesting and size; the
    events are checked before anything is built."""
    import yaml

    depth = events = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            events += 1
            if events > YAML_MAX_EVENTS:
                raise ScenarioError(f"{where}: more than {YAML_MAX_EVENTS} YAML nodes")
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ScenarioError(f"{where}: YAML anchors and aliases (&, *) are not allowed "
                                    f"(line {event.start_mark.line + 1})")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > YAML_MAX_DEPTH:
                    raise ScenarioError(f"{where}: nested deeper than {YAML_MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{where}: not valid YAML ({exc})") from None


def _face(value: object) -> FaceChoice:
    if value == "same" or value == "other" or value == "photo" or value == "nobody":
        return value
    raise ScenarioError(f"face {value!r}: expected one of {FACES}")


@dataclass
class Scenario:
    name: str
    path: str
    config: dict[str, Any]
    border: str
    traveller: SampleTraveller
    face: str
    untrusted_csca: bool
    steps: list[tuple[str, Any]]
    expect: dict[str, Any]
    # At the boarding-pass step: "answer" (show the pass the traveller carries, or
    # touch "I have no boarding pass") or "nothing" (wait for the step's timeout).
    at_boarding_pass: str = "answer"
    # The wall clock's instant when the scenario starts (scenario_clock).
    clock: datetime = DEFAULT_CLOCK


@dataclass
class StepResult:
    step: str
    passed: bool
    at_s: float
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"step": self.step, "passed": self.passed, "at_s": round(self.at_s, 2),
                "detail": self.detail}


@dataclass
class ScenarioResult:
    name: str
    path: str
    passed: bool = True
    steps: list[StepResult] = field(default_factory=list)
    failure: str | None = None
    screens: list[str] = field(default_factory=list)
    spoken: list[tuple[str, str]] = field(default_factory=list)
    outcome: str | None = None
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, why: str) -> None:
        if self.passed:
            self.passed = False
            self.failure = why

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.path, "passed": self.passed,
                "steps": [s.as_json() for s in self.steps], "failure": self.failure,
                "screens": self.screens, "spoken": [list(p) for p in self.spoken],
                "outcome": self.outcome, "reasons": self.reasons,
                "seconds": round(self.seconds, 2)}


# -- loading -------------------------------------------------------------------------
def _traveller_key(spec: TravellerSpec, where: str) -> str:
    """A `spec` traveller's own key: the file's name and a digest of the spec, so two
    files (or two travellers of one file) never share a passport however they are
    keyed; the file's `key:` is kept in front, for reading."""
    digest = hashlib.sha256(
        msgspec.json.encode([Path(where).name, spec], order="sorted")).hexdigest()[:12]
    return f"{spec.key or Path(where).stem}@{digest}"


def _spec_traveller(spec: TravellerSpec, where: str, check: Checker) -> SampleTraveller:
    for i, defect in enumerate(spec.defects):
        check.one_of(defect, DEFECTS, f"$.traveller.spec.defects[{i}]", "defect")
    onward = spec.onward
    return SampleTraveller(
        key=_traveller_key(spec, where), label=spec.label, surname=spec.surname,
        given_names=spec.given_names, nationality=spec.nationality,
        document_number=spec.document_number, birth_date=spec.birth_date, sex=spec.sex,
        portrait=spec.portrait, arrived_from=spec.arrived_from,
        onward=Onward(onward.destination, onward.hours_after_arrival,
                      confirmed=onward.confirmed) if onward else None,
        defects=tuple(spec.defects),
        boarding_pass=bool(spec.boarding_pass),
        boarding_pass_signed=spec.boarding_pass != "unsigned",
    )


def _traveller(section: TravellerSection, where: str, check: Checker) -> SampleTraveller:
    if section.sample is not None and section.spec is not None:
        raise check.fail("$.traveller", "give either 'sample: KEY' or 'spec: {...}', not both")
    if section.sample is not None:
        check.one_of(section.sample, [t.key for t in SAMPLES], "$.traveller.sample",
                     "sample traveller")
        return sample(section.sample)
    if section.spec is None:
        raise check.fail("$.traveller", "give 'sample: KEY' or 'spec: {...}'")
    return _spec_traveller(section.spec, where, check)


def _steps(raw: list[dict[str, Any]], check: Checker,
           languages: tuple[str, ...]) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = []
    for i, step in enumerate(raw):
        path = f"$.steps[{i}]"
        if len(step) != 1:
            raise check.fail(path, f"a step is a one-key mapping (an action), got {step!r}")
        ((action, arg),) = step.items()
        check.one_of(action, ACTIONS, path, "action")
        value = check.convert(arg, ACTION_ARGS[action], f"{path}.{action}")
        where = f"{path}.{action}"
        if isinstance(value, ScreenWait | ScreenAbsent):
            check.screen(value.screen, f"{where}.screen")
        elif action == "expect":
            check.screen(value, where)
        elif action in ("start", "switch_language"):
            check.language(value, where, languages)
        elif action == "show_face":
            check.face(value, where)
        elif isinstance(value, Placement):
            check.face(value.face, f"{where}.face")
        steps.append((action, arg))
    return steps


def _expectations(expect: Expect, check: Checker, languages: tuple[str, ...]) -> None:
    if expect.outcome is not None:
        check.one_of(expect.outcome, OUTCOMES, "$.expect.outcome", "outcome")
    for i, code in enumerate(expect.reasons):
        check.one_of(code, REASON_CODES, f"$.expect.reasons[{i}]", "reason code")
    for i, screen in enumerate(expect.screens or []):
        check.screen(screen, f"$.expect.screens[{i}]")
    for i, said in enumerate(expect.spoken):
        check.language(said.language, f"$.expect.spoken[{i}].language", languages)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the whole file (ScenarioError names the file and the line)."""
    p = Path(path)
    try:
        text = read_text_input(p, SCENARIO_MAX_BYTES)
    except UnsafeFileError as exc:
        raise ScenarioError(f"cannot read scenario {exc}") from None
    data = safe_yaml(text, str(p))
    try:
        check = Checker(str(p), text)
        if not isinstance(data, dict):
            raise check.fail("$", "a scenario is a mapping")
        doc: ScenarioFile = check.convert(data, ScenarioFile)
        _sandboxed(doc.config, str(p))
        try:
            config = parse_config(copy.deepcopy(doc.config))
        except ValueError as exc:
            raise check.fail("$.config", str(exc)) from None
        languages = tuple(config.kiosk.languages)
        who = _traveller(doc.traveller, str(p), check)
        check.face(doc.traveller.face, "$.traveller.face")
        steps = _steps(doc.steps, check, languages)
        _expectations(doc.expect, check, languages)
    except SchemaError as exc:
        raise ScenarioError(str(exc)) from None
    return Scenario(
        name=doc.name or p.stem, path=str(p), config=doc.config, border=doc.border,
        traveller=who, face=doc.traveller.face or who.face,  # a sample's own face by default
        untrusted_csca=doc.traveller.untrusted_csca, steps=steps,
        expect=data.get("expect") or {}, at_boarding_pass=doc.traveller.at_boarding_pass,
        clock=doc.clock or DEFAULT_CLOCK,
    )


# -- the screen side ---------------------------------------------------------------------
class ScreenProbe(Protocol):
    """What the traveller sees and hears; pump() lets a GUI process its events."""

    def attach(self, kiosk: SimulatedKiosk) -> None: ...

    def detach(self) -> None: ...

    def screens(self) -> list[str]: ...

    def spoken(self) -> list[tuple[str, str]] | None: ...

    def visible_texts(self) -> list[str]: ...

    def traveller_data(self) -> list[str]: ...

    def pump(self, seconds: float) -> None: ...

    def touch_start(self, language: str) -> bool: ...

    def touch_language(self, language: str) -> bool: ...


class SnapshotProbe:
    """No window: the lane's snapshots are the screens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._screens: list[str] = []
        self.snapshots: list[LaneSnapshot] = []
        self._kiosk: SimulatedKiosk

    def attach(self, kiosk: SimulatedKiosk) -> None:
        with self._lock:
            self._screens = []
            self.snapshots = []
        self._kiosk = kiosk
        kiosk.lane.add_observer(self)

    def detach(self) -> None:
        self._kiosk.lane.remove_observer(self)

    def lane_changed(self, snapshot: LaneSnapshot) -> None:
        with self._lock:
            self.snapshots.append(snapshot)
            if snapshot.state is not S.RESETTING and (
                not self._screens or self._screens[-1] != snapshot.screen
            ):
                self._screens.append(snapshot.screen)

    def screens(self) -> list[str]:
        with self._lock:
            return list(self._screens)

    def spoken(self) -> list[tuple[str, str]] | None:
        return None

    def visible_texts(self) -> list[str]:
        return []

    def traveller_data(self) -> list[str]:
        with self._lock:
            last = self.snapshots[-1] if self.snapshots else None
        if last is not None and last.transaction_id is not None:
            return [f"the last snapshot names transaction {last.transaction_id}"]
        return []

    def pump(self, seconds: float) -> None:
        time.sleep(seconds)

    def touch_start(self, language: str) -> bool:
        return False

    def touch_language(self, language: str) -> bool:
        return False


# -- running -------------------------------------------------------------------------------
def _kiosk_key(s: Scenario) -> str:
    base = {k: v for k, v in s.config.items() if k != "timeouts"}
    return json.dumps([base, s.border], sort_keys=True)


class KioskPool:
    """Simulated kiosks by configuration (all but the timeouts), kept for reuse:
    starting the face worker and building passports is the slow part of a run."""

    def __init__(self, base_dir: Path, storage_factory: Callable[[Config], Any]) -> None:
        self.base_dir = base_dir
        self.storage_factory = storage_factory
        self.kiosks: dict[str, SimulatedKiosk] = {}
        # One wall clock for every kiosk of the pool, pinned by each scenario.
        self.clock = PinnedClock()

    def get(self, s: Scenario) -> SimulatedKiosk:
        key = _kiosk_key(s)
        kiosk = self.kiosks.get(key)
        if kiosk is None:
            n = len(self.kiosks)
            data = copy.deepcopy(s.config)
            _sandboxed(data, s.path)  # also for a Scenario built in code
            border = OFFLINE_BORDER if s.border == "offline" else (
                f"sqlite:///{self.base_dir}/border-{n}.sqlite")
            data["storage"] = {"local_url": f"sqlite:///{self.base_dir}/scenario-{n}.sqlite",
                               "border_url": border}
            config = parse_config(data)
            kiosk = SimulatedKiosk(config, self.storage_factory(config), clock=self.clock)
            kiosk.camera.start()
            self.kiosks[key] = kiosk
            # The face worker's start (a process loading its models, about half of a
            # run's start-up) overlaps the passports, scenes and window built meanwhile;
            # prepare() waits for it and raises its error, if any.
            threading.Thread(target=_warm_up, args=(kiosk,), name="egate-scenario-warm-up",
                             daemon=True).start()
        return kiosk

    def start(self, scenarios: list[Scenario]) -> None:
        """Every kiosk the scenarios need and every traveller's passport and scenes,
        built while the face workers start (each passport under its scenario's clock,
        as run_scenario would date it)."""
        for s in scenarios:
            self.clock.pin(s.clock)
            kiosk = self.get(s)
            kiosk.passport(s.traveller)
            kiosk.prepare_scenes(s.traveller)

    def close(self) -> None:
        for kiosk in self.kiosks.values():
            kiosk.close()
        self.kiosks.clear()


def _forget_journeys(kiosk: SimulatedKiosk) -> None:
    """Each scenario starts with no advance passenger information in the stand-in
    border database the pool's scenarios share: what an earlier scenario's airline
    filed for the same passport number and day would otherwise be found for this
    one's traveller (one who must show a boarding pass would never be asked)."""
    if kiosk.storage.border is None:
        return
    with Session(kiosk.storage.border) as s, s.begin():
        s.execute(delete(AdvancePassengerInfo))


def _warm_up(kiosk: SimulatedKiosk) -> None:
    warm_up = getattr(kiosk.services.face, "warm_up", None)
    if callable(warm_up):
        with suppress(Exception):  # raised again, in the caller's thread, by prepare()
            warm_up()


def _distrust(kiosk: SimulatedKiosk, state: str) -> None:
    """Replace the trusted CSCA of `state` by an unrelated one: the passport's
    signer is then unknown to the kiosk (the "unknown CSCA" case)."""
    from devices.simulated.pki import make_test_pki

    other = make_test_pki(state, cache_keys=False, csca_serial=99,  # fresh keys
                          now=kiosk.clock.now())
    kiosk.storage.reference.put(
        KIND_ANCHOR, f"sim-{state}", other.csca_der(), "scenario: other CSCA"
    )


@contextmanager
def _lane_running(kiosk: SimulatedKiosk) -> Iterator[LaneRunner]:
    runner = LaneRunner(kiosk.lane, poll_s=0.01)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


def _sensitive_words() -> list[str]:
    return sorted({*SENSITIVE_CODES, *REASON_CODES, "watchlist", "watch list"})


def run_scenario(scenario: Scenario, pool: KioskPool, probe: ScreenProbe) -> ScenarioResult:
    result = ScenarioResult(scenario.name, scenario.path)
    started = time.monotonic()
    pool.clock.pin(scenario.clock)  # before anything is built or dated
    kiosk = pool.get(scenario)
    if scenario.border != "offline":  # nothing to forget in an unreachable one
        _forget_journeys(kiosk)
    base_config: Config = kiosk.lane.config
    timeouts = parse_config({"timeouts": scenario.config.get("timeouts", {})}).timeouts
    kiosk.lane.config = replace(base_config, timeouts=timeouts)
    kiosk.prepare([scenario.traveller])
    kiosk.answers_boarding_pass = scenario.at_boarding_pass == "answer"
    if scenario.untrusted_csca:
        _distrust(kiosk, scenario.traveller.issuing_state)  # trusted again in `finally`
    events_before = {e.event_id for e in kiosk.storage.events.events()}
    opened_before = kiosk.gate.opened_count
    snapshots = SnapshotProbe()
    snapshots.attach(kiosk)
    probe.attach(kiosk)
    run = _StepRunner(scenario, kiosk, probe, snapshots)

    def elapsed() -> float:
        return time.monotonic() - started

    try:
        with _lane_running(kiosk):
            probe.pump(0.05)
            for action, arg in scenario.steps:
                label = f"{action} {arg}" if arg not in ({}, None) else action
                ok, detail = run.step(action, arg)
                result.steps.append(StepResult(label, ok, elapsed(), detail))
                if not ok:
                    result.fail(f"step '{label}' failed: {detail}")
                    break
            probe.pump(0.05)
            run.texts_seen.update(probe.visible_texts())
            _check_expectations(scenario, kiosk, result, events_before, opened_before)
            if scenario.expect.get("cleared"):
                _check_cleared(kiosk, result, probe)
            result.screens = probe.screens()
            if "screens" in scenario.expect and result.screens != list(scenario.expect["screens"]):
                result.fail(f"screens {result.screens}, expected {scenario.expect['screens']}")
            result.spoken = probe.spoken() or []
            _check_spoken(scenario, result, probe)
            _check_sensitive(result, snapshots, run.texts_seen)
            _settle(kiosk, probe)
        _drain_face_worker(kiosk)
    except Exception as exc:  # a broken run is a failed scenario, never a crash of the rest
        result.fail(f"{type(exc).__name__}: {exc}")
        with _lane_running(kiosk):
            _settle(kiosk, probe)
    finally:
        if scenario.untrusted_csca:
            state = scenario.traveller.issuing_state
            kiosk.storage.reference.put(KIND_ANCHOR, f"sim-{state}",
                                        kiosk.pki(state).csca_der(), "simulator test PKI")
        probe.detach()
        snapshots.detach()
        kiosk.lane.config = base_config
        kiosk.answers_boarding_pass = True
        kiosk.scenes.clear_fault()
    result.seconds = elapsed()
    return result


class _StepRunner:
    """Carries out a scenario's steps on the simulated kiosk, through its screens."""

    def __init__(
        self, scenario: Scenario, kiosk: SimulatedKiosk, probe: ScreenProbe,
        snapshots: SnapshotProbe,
    ) -> None:
        self.scenario, self.kiosk, self.probe, self.snapshots = scenario, kiosk, probe, snapshots
        self.texts_seen: set[str] = set()
        self.cursor = 0  # screens before it were matched by an earlier `expect`

    def wait_screen(self, screen: str, within: float) -> bool:
        probe = self.probe
        deadline = time.monotonic() + within
        while True:
            self.texts_seen.update(probe.visible_texts())
            seen = probe.screens()
            for i in range(self.cursor, len(seen)):
                if seen[i] == screen:
                    self.cursor = i + 1
                    return True
            if time.monotonic() > deadline:
                return False
            probe.pump(0.02)

    def step(self, action: str, arg: Any) -> tuple[bool, str]:
        """One step; (False, why) when it failed."""
        scenario, kiosk, probe, snapshots = self.scenario, self.kiosk, self.probe, self.snapshots
        ok, detail = True, ""
        if action == "expect":
            screen = arg if isinstance(arg, str) else str(arg["screen"])
            within = DEFAULT_WITHIN_S if isinstance(arg, str) else float(
                arg.get("within", DEFAULT_WITHIN_S))
            ok = self.wait_screen(screen, within)
            if not ok:
                detail = f"screens seen: {probe.screens()}"
        elif action == "expect_not":
            # Not shown since the last expected screen, nor for the next S s
            # (a screen that came and went before this step counts too).
            screen = str(arg["screen"])
            end = time.monotonic() + float(arg.get("for", 2.0))
            while time.monotonic() < end:
                probe.pump(0.02)
            ok = screen not in probe.screens()[self.cursor:]
            detail = "" if ok else f"{screen} was shown"
        elif action == "wait":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                self.texts_seen.update(probe.visible_texts())
                probe.pump(0.02)
        elif action == "start":
            if not probe.touch_start(str(arg)):
                kiosk.lane.post(Start(str(arg)))
        elif action == "start_again":
            lang = snapshots.snapshots[-1].language if snapshots.snapshots else "en"
            kiosk.lane.post(Start(lang))
        elif action == "switch_language":
            if not probe.touch_language(str(arg)):
                kiosk.lane.post(ChangeLanguage(str(arg)))
        elif action == "place_passport":
            opts = arg if isinstance(arg, dict) else {}
            pulled = opts.get("remove_after_apdus")
            kiosk.present(scenario.traveller, _face(opts.get("face", scenario.face)),
                          Misbehaviour(remove_after=int(pulled)) if pulled else None)
        elif action == "remove_passport":
            kiosk.remove_passport()
        elif action == "walk_through":
            ok = kiosk.walk_through()
            detail = "" if ok else "the gate was not open"
        elif action == "show_face":
            kiosk.show_face(_face(arg), scenario.traveller)
        elif action == "show_boarding_pass":
            kiosk.scenes.set_source(kiosk.boarding_pass_scene(scenario.traveller),
                                    loop=True)
        elif action == "camera_fault":
            kiosk.scenes.inject_fault(str(arg or "camera unplugged"))
        elif action == "skip_boarding_pass":
            kiosk.lane.post(SkipBoardingPass())
        return ok, detail


def _check_expectations(scenario: Scenario, kiosk: SimulatedKiosk, result: ScenarioResult,
                        events_before: set[str], opened_before: int) -> None:
    exp = scenario.expect
    kiosk.lane.flush_log()
    new = [e for e in kiosk.storage.events.events() if e.event_id not in events_before]
    last = new[-1] if new else None
    result.outcome = last.outcome if last else "none"
    result.reasons = list(last.reasons) if last else []
    if "outcome" in exp and exp["outcome"] != result.outcome:
        result.fail(f"outcome {result.outcome!r}, expected {exp['outcome']!r}")
    missing = [r for r in exp.get("reasons", []) if r not in result.reasons]
    if missing:
        result.fail(f"reasons {result.reasons} lack {missing}")
    if "error" in exp:
        error = (last.error or "") if last else ""
        if not error.startswith(str(exp["error"])):
            result.fail(f"logged error {error!r}, expected {exp['error']!r}...")
    if "gate_opened" in exp:
        opened = kiosk.gate.opened_count > opened_before
        if opened != bool(exp["gate_opened"]):
            result.fail(f"gate opened: {opened}, expected {exp['gate_opened']}")
    wanted_checks = exp.get("checks", {})
    logged = dict(last.checks) if last else {}
    for key, value in wanted_checks.items():
        if logged.get(key) != value:
            result.fail(f"logged check {key}={logged.get(key)!r}, expected {value!r}")
    if "transactions" in exp and len(new) != int(exp["transactions"]):
        result.fail(f"{len(new)} transactions logged, expected {exp['transactions']}")
    if kiosk.gate.state == "open" and exp.get("outcome") != "admitted":
        result.fail("the gate is open at the end")


def _check_cleared(kiosk: SimulatedKiosk, result: ScenarioResult, probe: ScreenProbe) -> None:
    """Back on the welcome screen nothing of the traveller is left: the lane holds no
    transaction and the screen shows no trace of one (ui.scenario_probe)."""
    if kiosk.lane.state is not S.IDLE:
        result.fail(f"the lane is {kiosk.lane.state.value}, not idle, at the end")
    if kiosk.lane._tx is not None:  # no public accessor; lane.py is not this change's
        result.fail("the lane still holds the traveller's transaction")
    for trace in probe.traveller_data():
        result.fail(f"traveller data left: {trace}")


def _check_spoken(scenario: Scenario, result: ScenarioResult, probe: ScreenProbe) -> None:
    wanted = scenario.expect.get("spoken", [])
    spoken = probe.spoken()
    if not wanted:
        return
    if spoken is None:
        result.steps.append(StepResult("spoken prompts", True, 0.0, "skipped: no window"))
        return
    for item in wanted:
        lang, text = str(item["language"]), str(item["contains"])
        if not any(lg == lang and text.lower() in said.lower() for lg, said in spoken):
            result.fail(f"never said {text!r} in {lang} (said: {spoken})")


def _check_sensitive(result: ScenarioResult, snapshots: SnapshotProbe, texts: set[str]) -> None:
    for snap in snapshots.snapshots:
        leaked = set(snap.traveller_reasons) & SENSITIVE_CODES
        if leaked:
            result.fail(f"sensitive reason {sorted(leaked)} in a traveller snapshot")
    words = _sensitive_words()
    for text in texts:
        low = text.lower()
        for word in words:
            if word in low:
                result.fail(f"the traveller screen showed {word!r}: {text!r}")


def _drain_face_worker(kiosk: SimulatedKiosk) -> None:
    """Let the face worker use up frames left over from the last comparison.

    Without this the next traveller's comparison can see the previous traveller's
    frames (found by these scenarios: a genuine holder referred with face_mismatch
    after an impostor, and an impostor admitted after a genuine holder of the same
    portrait); the fix belongs in kiosk/face/worker.py, this keeps each scenario
    about the traveller it describes."""
    import numpy as np

    kiosk.show_face("nobody")
    with suppress(Exception):  # a no-face verdict (or none) is all this is for
        kiosk.services.face.verify(np.zeros((64, 64, 3), np.uint8), kiosk.camera, 0.3)


def _settle(kiosk: SimulatedKiosk, probe: ScreenProbe) -> None:
    """Back to a clean, idle lane for the next scenario (gate closed, reader empty)."""
    kiosk.lane.config = replace(kiosk.lane.config, timeouts=replace(
        kiosk.lane.config.timeouts, result_display_s=0.05, error_display_s=0.05,
        document_return_s=0.05, gate_passage_s=0.05, document_s=0.05))
    kiosk.remove_passport()
    kiosk.scenes.clear_fault()
    kiosk.show_face("nobody")
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        if kiosk.lane.state is S.ERROR:
            kiosk.lane.post(Cancel())
        if kiosk.lane.state is S.IDLE:
            break
        probe.pump(0.02)


def run_scenarios(paths: list[str], make_probe: Callable[[], ScreenProbe], base_dir: Path,
                  storage_factory: Callable[[Config], Any],
                  progress: Callable[[ScenarioResult], None] | None = None,
                  ) -> list[ScenarioResult]:
    """Load every file first (a bad file fails before anything runs), start what the
    kiosks need, then make the screen side (its start-up overlaps theirs) and play
    each; `progress` hears of each result as it comes."""
    scenarios = [load_scenario(p) for p in paths]
    pool = KioskPool(base_dir, storage_factory)
    try:
        pool.start(scenarios)
        probe = make_probe()
        results = []
        for s in scenarios:
            results.append(run_scenario(s, pool, probe))
            if progress is not None:
                progress(results[-1])
        return results
    finally:
        pool.close()
