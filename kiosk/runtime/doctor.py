"""`egate doctor`: is this kiosk PC fit to run a lane? One verdict per check.

Each check returns ok, warn or fail with what it saw and, when not ok, the fix an
airport IT engineer would apply. Probes that touch hardware are injected, so the
checks are tested with simulated faults; `egate doctor` passes the real ones. A check
that raises is reported as fail (the doctor itself never crashes).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from kiosk.config import Config, expand_url

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "detail": self.detail, "fix": self.fix}


def _ok(check: str, detail: str) -> CheckResult:
    return CheckResult(check, "ok", detail)


def _bad(check: str, status: Status, detail: str, fix: str) -> CheckResult:
    return CheckResult(check, status, detail, fix)


@dataclass
class Probes:
    """The hardware and system look-ups; tests replace them with simulated faults."""

    list_readers: Callable[[], list[str]]
    camera_frame: Callable[[str, float], bool]  # source, timeout -> a frame arrived
    gate_status: Callable[[str, int, float], str]  # port, baud, timeout -> controller state
    serial_opens: Callable[[str, int], None]  # raises OSError when the port cannot open
    face_models: Callable[[], None]  # raises when dlib's models do not load
    disk_free: Callable[[Path], int] = field(default=lambda p: shutil.disk_usage(p).free)
    clock_synchronised: Callable[[], bool | None] = field(default=lambda: _clock_synchronised())
    # espeak-ng's voices (None: not installed); kiosk/runtime/speech.py.
    speech_voices: Callable[[], set[str] | None] = field(default=lambda: _speech_voices())


def real_probes() -> Probes:
    def readers() -> list[str]:
        from devices.icao9303.pcsc import list_readers

        return list(list_readers())

    def camera_frame(source: str, timeout: float) -> bool:
        from devices.camera.opencv import OpenCvCamera, parse_source

        camera = OpenCvCamera(parse_source(source), max_failures=3)
        camera.start()
        try:
            return camera.wait_frame(-1, timeout) is not None
        finally:
            camera.stop()

    def gate_status(port: str, baud: int, timeout: float) -> str:
        from devices.gate.probe import controller_status

        return controller_status(port, baud, timeout)

    def serial_opens(port: str, baud: int) -> None:
        import serial

        serial.Serial(port, baudrate=baud, timeout=0.2).close()

    def face_models() -> None:
        from kiosk.face.models import load_models

        load_models()

    return Probes(readers, camera_frame, gate_status, serial_opens, face_models)


def _speech_voices() -> set[str] | None:
    from kiosk.runtime.speech import espeak_voices

    return espeak_voices()


def _clock_synchronised() -> bool | None:
    """True/False from timedatectl (systemd-timesyncd, chrony or ntpd); None if unknown."""
    if shutil.which("timedatectl") is None:
        return None
    try:
        out = subprocess.run(
            ["timedatectl", "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value)


# -- the checks ----------------------------------------------------------------------
def check_reader(config: Config, probes: Probes) -> CheckResult:
    name = "pcsc_reader"
    d = config.devices
    if d.reader != "real":
        return _bad(name, "warn", "devices.reader is simulated", 'set devices.reader = "real"')
    try:
        readers = probes.list_readers()
    except Exception as exc:
        return _bad(
            name,
            "fail",
            f"pcscd does not answer: {exc}",
            "systemctl enable --now pcscd.socket; check the reader's USB cable",
        )
    matching = [r for r in readers if d.reader_name in r]
    if not matching:
        return _bad(
            name,
            "fail",
            f"no reader matching {d.reader_name!r} (pcscd offers {readers})",
            "plug the passport reader in, or fix devices.reader_name",
        )
    return _ok(name, f"pcscd offers {matching[0]!r}")


def check_camera(config: Config, probes: Probes) -> CheckResult:
    name = "camera"
    d = config.devices
    if d.camera != "real":
        return _bad(name, "warn", "devices.camera is simulated", 'set devices.camera = "real"')
    if probes.camera_frame(d.camera_source, 5.0):
        return _ok(name, f"camera {d.camera_source!r} delivers frames")
    return _bad(
        name,
        "fail",
        f"no frame from camera {d.camera_source!r} within 5 s",
        "check the camera cable and devices.camera_source; the egate user must be "
        "in the video group",
    )


def check_mrz_source(config: Config, probes: Probes) -> CheckResult:
    name = "mrz_source"
    d = config.devices
    if d.mrz_source != "real":
        return _bad(
            name, "warn", "devices.mrz_source is simulated", 'set devices.mrz_source = "real"'
        )
    if d.mrz_device == "serial":
        try:
            probes.serial_opens(d.mrz_port, d.mrz_baud)
        except Exception as exc:
            return _bad(
                name,
                "fail",
                f"MRZ reader port {d.mrz_port!r}: {exc}",
                "check the cable and devices.mrz_port; the egate user must be in the dialout group",
            )
        return _ok(name, f"MRZ reader port {d.mrz_port!r} opens")
    source = d.mrz_camera_source or d.camera_source
    if probes.camera_frame(source, 5.0):
        return _ok(name, f"document camera {source!r} delivers frames")
    return _bad(
        name,
        "fail",
        f"no frame from document camera {source!r}",
        "check devices.mrz_camera_source and the camera cable",
    )


def check_gate(config: Config, probes: Probes) -> CheckResult:
    name = "gate_controller"
    d = config.devices
    if d.gate != "real":
        return _bad(name, "warn", "devices.gate is simulated", 'set devices.gate = "real"')
    try:
        state = probes.gate_status(d.gate_port, d.gate_baud, 1.0)
    except Exception as exc:
        return _bad(
            name,
            "fail",
            f"gate controller on {d.gate_port!r} does not answer: {exc}",
            "check the controller's power and serial cable, devices.gate_port and "
            "gate_baud; the egate user must be in the dialout group",
        )
    if state != "closed":
        return _bad(
            name,
            "warn",
            f"gate controller answers, barrier is {state}",
            "a barrier open with no lane running: check the controller's watchdog",
        )
    return _ok(name, f"gate controller on {d.gate_port!r} answers, barrier closed")


def check_face_models(config: Config, probes: Probes) -> CheckResult:
    name = "face_models"
    try:
        probes.face_models()
    except Exception as exc:
        return _bad(
            name,
            "fail",
            f"dlib's face models do not load: {exc}",
            "reinstall the egate package (face_recognition_models, dlib-bin)",
        )
    return _ok(name, "dlib detector, landmarks and ResNet encoder load")


def check_trust_store(config: Config, now: datetime) -> CheckResult:
    name = "trust_store"
    from cryptography import x509

    from kiosk.store.database import open_local
    from kiosk.store.reference import ReferenceStore
    from kiosk.trust.store import KIND_ANCHOR, KIND_MASTER_LIST

    store = ReferenceStore(open_local(expand_url(config.storage.local_url)))
    anchors = store.items(KIND_ANCHOR)
    if not anchors:
        return _bad(
            name,
            "fail",
            "no provisioned trust anchor in the trust store",
            "provision the anchor that vouches for the master list, then import it "
            "(docs/deployment.md, step 3): egate trust import --bootstrap-anchor CSCA.pem",
        )
    anchors += store.items(KIND_MASTER_LIST)
    stale: list[str] = []
    crls = store.items("crl")
    for item in crls:
        try:
            next_update = x509.load_der_x509_crl(item.payload).next_update_utc
        except ValueError:
            stale.append(f"{item.key} (unreadable)")
            continue
        if next_update is None or next_update < now:
            stale.append(item.key)
    if not crls:
        return _bad(
            name,
            "warn",
            f"{len(anchors)} trust anchor item(s), no CRL",
            "import the CRLs of the issuing states: egate trust import FILE.crl",
        )
    if stale:
        return _bad(
            name,
            "warn",
            f"CRLs past their next update: {', '.join(stale)}",
            "import current CRLs (the border sync delivers them when it runs)",
        )
    return _ok(name, f"{len(anchors)} trust anchor item(s), {len(crls)} current CRL(s)")


def check_policy(config: Config, now: datetime) -> CheckResult:
    name = "policy_pack"
    from kiosk.decision.policy_adapter import PackPolicy
    from policy.pack import select_pack

    policy = PackPolicy.from_config(config)
    pack = select_pack(policy.packs, config.kiosk.port, now)
    problems = policy.problems
    if pack is None:
        return _bad(
            name,
            "fail",
            f"no policy pack in force at {config.kiosk.port} today",
            "install the current pack in policy.pack_dir or publish it to the border",
        )
    detail = f"{pack.id} {pack.version} in force at {config.kiosk.port}"
    if problems:
        return _bad(
            name,
            "warn",
            detail + f"; rejected: {'; '.join(problems)}",
            "fix or remove the rejected pack files",
        )
    return _ok(name, detail)


def check_border(config: Config) -> CheckResult:
    """Connects as the configured role for real (a URL alone proves nothing) and
    checks its privileges are a kiosk's: insert events, read reference data,
    nothing more (kiosk/runtime/border_probe.py)."""
    name = "border_database"
    from kiosk.border import BorderError, BorderSync
    from kiosk.border.database import create_border_engine, redact
    from kiosk.config import ConfigError
    from kiosk.runtime.border_probe import production_border_url, role_facts
    from kiosk.store.database import open_local

    try:
        url = production_border_url(config)
    except ConfigError as exc:
        return _bad(name, "fail", str(exc),
                    "set storage.border_url to the border PostgreSQL with this kiosk's role "
                    "(docs/deployment.md); egate kiosk refuses to start without it")
    try:
        border = create_border_engine(url)
    except BorderError as exc:
        return _bad(name, "fail", f"border URL unusable: {exc}", "fix storage.border_url")
    try:
        facts = role_facts(border)
    except BorderError as exc:
        return _bad(name, "fail", f"{redact(url)}: {exc}",
                    "check the network, storage.border_url and the kiosk role's password")
    finally:
        border.dispose()
    problems = facts.problems()
    if problems:
        return _bad(name, "fail", f"connected as {facts.user}, which {'; '.join(problems)}",
                    "connect as the kiosk's own role made by egate border init "
                    "(a member of <prefix>_kiosk), never the owner or a superuser")
    local = open_local(expand_url(config.storage.local_url))
    try:
        pending = BorderSync(local, border, config.kiosk.id).pending()
    finally:
        local.dispose()
    if pending > 1000:
        return _bad(name, "warn",
                    f"PostgreSQL reachable as {facts.user}; sync backlog of {pending} events",
                    "the sync is behind: check egate sync --once and the network")
    return _ok(name, f"PostgreSQL reachable as the kiosk role {facts.user} (insert events, "
               f"read reference data, nothing more); {pending} events pending")


def check_reference_pull(config: Config, now: datetime) -> CheckResult:
    """The last successful pull from the border, against policy.reference_max_age_h:
    the lane refers every traveller once the reference data is older."""
    name = "reference_pull"
    from kiosk.lane.reference_data import reference_age_h
    from kiosk.store.database import open_local
    from kiosk.store.reference import ReferenceStore

    local = open_local(expand_url(config.storage.local_url))
    try:
        age = reference_age_h(ReferenceStore(local), now)
    finally:
        local.dispose()
    limit = config.policy.reference_max_age_h
    fix = "run egate sync --once and check the border database check above"
    if age is None:
        return _bad(name, "fail", "this kiosk has never pulled reference data from the border",
                    fix)
    if age > limit:
        return _bad(name, "fail",
                    f"last successful pull {age:.1f} h ago (limit {limit:g} h): the lane refers",
                    fix)
    return _ok(name, f"last successful pull {age:.2f} h ago (limit {limit:g} h)")


def check_disk(config: Config, probes: Probes) -> CheckResult:
    name = "disk_space"
    url = expand_url(config.storage.local_url)
    where = Path(url[len("sqlite:///") :]).parent if url.startswith("sqlite:///") else Path("/")
    while not where.exists() and where != where.parent:
        where = where.parent
    free = probes.disk_free(where)
    mib = free // (1 << 20)
    if free < 200 << 20:
        return _bad(
            name,
            "fail",
            f"{mib} MiB free under {where}",
            "free disk space: the event log must be able to grow",
        )
    if free < 2 << 30:
        return _bad(name, "warn", f"{mib} MiB free under {where}", "free disk space soon")
    return _ok(name, f"{mib} MiB free under {where}")


def check_clock(config: Config, probes: Probes) -> CheckResult:
    name = "clock"
    synced = probes.clock_synchronised()
    if synced is True:
        return _ok(name, "system clock synchronised (NTP)")
    if synced is False:
        return _bad(
            name,
            "fail",
            "system clock is not synchronised",
            "enable NTP: timedatectl set-ntp true (entry times are legal records)",
        )
    return _bad(
        name,
        "warn",
        "cannot tell whether the clock is synchronised",
        "install systemd-timesyncd or chrony",
    )


def check_speech(config: Config, probes: Probes) -> CheckResult:
    """The engine the kiosk will speak with (ui/traveller/speech.py make_speaker): a
    missing one is a warning, the lane works silently (docs/traveller.md "Speech")."""
    from kiosk.runtime.speech import voice_for

    name = "speech"
    k = config.kiosk
    if not k.speech:
        return _ok(name, "speech is off in the configuration ([kiosk] speech = false)")
    if k.speech_engine == "speechd":
        return _bad(
            name,
            "warn",
            "speech_engine = speechd: its voices are not checked here",
            "see the kiosk's start-up log for 'speech off', or use espeak-ng",
        )
    voices = probes.speech_voices()
    if voices is None:
        fallback = " (auto: speech-dispatcher is tried next)" if k.speech_engine == "auto" else ""
        return _bad(
            name,
            "warn",
            f"espeak-ng is not installed{fallback}",
            "apt-get install espeak-ng: prompts are not spoken without it",
        )
    found = {lang: voice_for(lang, voices) for lang in k.languages}
    missing = sorted(lang for lang, voice in found.items() if voice is None)
    if missing:
        return _bad(
            name,
            "warn",
            f"espeak-ng has no voice for {', '.join(missing)}",
            "install espeak-ng-data with those voices; those prompts stay silent",
        )
    listed = ", ".join(f"{lang} ({voice})" for lang, voice in found.items())
    return _ok(name, f"espeak-ng voices: {listed} (the audio device is not checked)")


def run_checks(config: Config, probes: Probes, now: datetime | None = None) -> list[CheckResult]:
    at = now or datetime.now(UTC)
    checks: list[tuple[str, Callable[[], CheckResult]]] = [
        ("pcsc_reader", lambda: check_reader(config, probes)),
        ("camera", lambda: check_camera(config, probes)),
        ("mrz_source", lambda: check_mrz_source(config, probes)),
        ("gate_controller", lambda: check_gate(config, probes)),
        ("face_models", lambda: check_face_models(config, probes)),
        ("trust_store", lambda: check_trust_store(config, at)),
        ("policy_pack", lambda: check_policy(config, at)),
        ("border_database", lambda: check_border(config)),
        ("reference_pull", lambda: check_reference_pull(config, at)),
        ("disk_space", lambda: check_disk(config, probes)),
        ("clock", lambda: check_clock(config, probes)),
        ("speech", lambda: check_speech(config, probes)),
    ]
    results = [_ok("config", "configuration valid")]
    for name, check in checks:
        started = time.monotonic()
        try:
            result = check()
        except Exception as exc:  # a check that breaks is a finding, not a crash
            result = _bad(
                name,
                "fail",
                f"check failed: {type(exc).__name__}: {exc}",
                "see the detail; run egate doctor again after fixing",
            )
        if time.monotonic() - started > 10:
            result = CheckResult(result.check, result.status, result.detail + " (slow)", result.fix)
        results.append(result)
    return results
