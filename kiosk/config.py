"""Kiosk configuration: a TOML file validated against a typed schema.

Unknown keys, wrong types and out-of-range values are errors that name the key:
a kiosk that cannot read its configuration refuses to start rather than running
half-configured.
"""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import msgspec

ENV_VAR = "EGATE_CONFIG"


class ConfigError(ValueError):
    """The configuration is unusable; the message names the key and the problem."""


DeviceKind = Literal["simulated", "real"]
Language = Literal["zh_CN", "en", "ja", "ko", "ru"]  # the translations the UI has
BaudRate = Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]  # what a UART offers


def _within(
    low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> msgspec.Meta:
    """Schema bounds of a numeric key (msgspec.Meta); `RANGES` is read back from them."""
    if low_open:
        return msgspec.Meta(gt=low, lt=high) if high_open else msgspec.Meta(gt=low, le=high)
    return msgspec.Meta(ge=low, lt=high) if high_open else msgspec.Meta(ge=low, le=high)


# Every numeric key has a closed range: what the storage can hold (the lane is a
# 32-bit integer in both databases), what the clock calls accept (threading waits
# overflow beyond ~292 years) and what makes sense for a kiosk. A bound also
# refuses nan, which TOML allows and no setting means.
Seconds = Annotated[float, _within(0.0, 600.0, low_open=True)]


IataPort = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{3}\Z", description="a three-letter IATA airport code")
]


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A table of the file: an unknown key is an error, not silently ignored."""


class KioskSection(_Section, frozen=True):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "SIM-CSX-01"
    port: IataPort = "CSX"  # the airport the lane serves
    # The port's IANA time zone: the supervisor station shows local times in it.
    time_zone: str = "Asia/Shanghai"
    lane: Annotated[int, _within(1, 9999)] = 1
    direction: Literal["entry", "exit"] = "entry"
    languages: Annotated[tuple[Language, ...], msgspec.Meta(min_length=1)] = (
        "zh_CN", "en", "ja", "ko", "ru",
    )  # fmt: skip
    fullscreen: bool = False
    # Traveller window locked down (frameless fullscreen, no close, no shortcut
    # escapes, cursor hidden); `egate demo` never locks down.
    lockdown: bool = True
    screen: Annotated[int, _within(0, 15)] = 0  # index of the Qt screen the window fills
    # Maintenance exit: argon2id hash of the officer PIN (`egate kiosk pin-hash`);
    # empty = no maintenance exit (SIGTERM still stops the kiosk cleanly).
    maintenance_pin_hash: str = ""
    speech: bool = True  # speak every prompt (false = muted)
    # Which engine speaks (docs/traveller.md): "auto" tries espeak-ng, then the
    # speech-dispatcher service; the named one only otherwise. None works: silence.
    speech_engine: Literal["auto", "espeak-ng", "speechd"] = "auto"
    high_contrast: bool = False


class UiSection(_Section, frozen=True):
    """Where the traveller screen stands in the hall (docs/traveller.md, "Reach")."""

    # The staffed desk as a traveller facing the kiosk sees it: the referral screen's
    # arrow points there ("ahead": straight on, drawn pointing up as signs do).
    officer_desk: Literal["left", "right", "ahead"] = "ahead"
    # The screen's visible area as mounted: its lower edge above the floor and its
    # height, in mm (27-inch 16:9 portrait: 598 mm). The reach check uses them.
    screen_bottom_mm: Annotated[int, _within(0, 2500)] = 800
    screen_height_mm: Annotated[int, _within(50, 2500)] = 598


class DevicesSection(_Section, frozen=True):
    reader: DeviceKind = "simulated"
    reader_name: str = ""  # PC/SC reader name (substring); empty = first reader
    camera: DeviceKind = "simulated"
    camera_source: str = "0"  # device index, file or stream URL for a real camera
    gate: DeviceKind = "simulated"
    gate_port: str = ""  # serial device of the gate controller (docs/gate.md), e.g. /dev/egate-gate
    gate_baud: BaudRate = 9600
    # The gate link's timing (docs/gate.md): an unacknowledged command, and a controller
    # silent this long, fault the gate closed. Longer on a kiosk PC that is often busy.
    gate_ack_timeout_s: Annotated[float, _within(0.1, 10.0)] = 0.5
    gate_link_lost_s: Annotated[float, _within(0.5, 30.0)] = 1.0
    mrz_source: DeviceKind = "simulated"
    mrz_device: Literal["camera", "serial"] = "camera"  # page camera OCR, or an MRZ line reader
    mrz_camera_source: str = ""  # document camera (index, file, URL); empty = the face camera
    mrz_port: str = ""  # serial device of an MRZ line reader
    mrz_baud: BaudRate = 9600


class StorageSection(_Section, frozen=True):
    local_url: str = "sqlite:///~/.local/share/egate/local.sqlite"  # "~" is expanded
    # Empty: an embedded SQLite file stands in for the border database.
    border_url: str = ""
    # At most a day between syncs.
    sync_interval_s: Annotated[float, _within(0.0, 86400.0, low_open=True)] = 10.0
    # The event log's sealing key (`egate log enrol`), kept outside the database
    # file; empty: log-seal.key beside an SQLite local_url.
    log_key_file: str = ""


class TimeoutsSection(_Section, frozen=True):
    # traveller to place the passport
    document_s: Annotated[float, _within(0.0, 3600.0, low_open=True)] = 60.0
    face_s: Seconds = 10.0  # traveller to present a usable face
    boarding_pass_s: Seconds = 15.0  # traveller to show a boarding pass barcode
    gate_passage_s: Seconds = 20.0  # traveller to walk through an open gate
    result_display_s: Seconds = 3.0
    error_display_s: Seconds = 8.0  # an error screen stays this long (or until "start again")
    document_return_s: Seconds = 30.0  # traveller to take the passport back


# dlib distances lie in [0, 2).
Distance = Annotated[float, _within(0.0, 2.0, low_open=True, high_open=True)]


class FaceSection(_Section, frozen=True):
    # dlib ResNet distance at or below which faces match and the gate may open: the
    # strict point whose FMR holds within East Asian pairs (docs/face.md, "Threshold").
    threshold: Distance = 0.37
    # Above `threshold` and at most this: "match_uncertain", referred for an officer
    # to compare the photos (the model cannot tell such faces apart at 0.1% FMR).
    uncertain_threshold: Distance = 0.55
    budget_s: Annotated[float, _within(0.0, 60.0, low_open=True)] = 1.5  # to pick the best frame
    max_frames: Annotated[int, _within(1, 1000)] = 8
    liveness: Literal["off", "passive", "challenge"] = "passive"
    # A document that decides a referral by itself (expired, not authentic, not
    # eligible) skips the face step unless the officer station wants the face compared
    # for such referrals too (docs/traveller.md, "Order of the steps").
    for_document_referrals: bool = False
    # Tries at the camera when nobody was seen in one (an empty camera is a traveller
    # not yet in place, not a failed match): the countdown restarts for each.
    attempts: Annotated[int, _within(1, 3)] = 2


class PolicySection(_Section, frozen=True):
    pack_dir: str = ""  # extra policy packs; empty = the shipped packs only
    # At most a year; the packs themselves allow 24 h.
    reference_max_age_h: Annotated[float, _within(0.0, 8760.0, low_open=True)] = 24.0


class TrustSection(_Section, frozen=True):
    # What a deviation list (ICAO 9303-12) entry does to the failure it explains
    # (docs/trust.md): "refer" names it for the officer; "accept_listed" passes a
    # listed data-group hash failure outside DG1/DG2/DG14/DG15 with a note.
    deviation_policy: Literal["refer", "accept_listed"] = "refer"


class PrivacySection(_Section, frozen=True):
    # Biometric images are kept no longer than needed: 30 days at the very most.
    referral_image_retention_h: Annotated[float, _within(0.0, 720.0)] = 24.0


class LoggingSection(_Section, frozen=True):
    level: Literal["debug", "info", "warning", "error"] = "info"  # JSON lines on stderr


class MetricsSection(_Section, frozen=True):
    """The Prometheus endpoint (docs/metrics.md). Port 0: no endpoint."""

    port: Annotated[int, _within(0, 65535)] = 0  # `egate kiosk`
    station_port: Annotated[int, _within(0, 65535)] = 0  # `egate supervisor`
    # Loopback by default: the figures describe the port's traffic, so another
    # interface is a deliberate choice (a management network), never the default.
    bind: str = "127.0.0.1"


class Config(_Section, frozen=True):
    kiosk: KioskSection = msgspec.field(default_factory=KioskSection)
    ui: UiSection = msgspec.field(default_factory=UiSection)
    devices: DevicesSection = msgspec.field(default_factory=DevicesSection)
    storage: StorageSection = msgspec.field(default_factory=StorageSection)
    timeouts: TimeoutsSection = msgspec.field(default_factory=TimeoutsSection)
    face: FaceSection = msgspec.field(default_factory=FaceSection)
    policy: PolicySection = msgspec.field(default_factory=PolicySection)
    trust: TrustSection = msgspec.field(default_factory=TrustSection)
    privacy: PrivacySection = msgspec.field(default_factory=PrivacySection)
    logging: LoggingSection = msgspec.field(default_factory=LoggingSection)
    metrics: MetricsSection = msgspec.field(default_factory=MetricsSection)


def _ranges() -> dict[str, tuple[float, float, bool, bool]]:
    """(low, high, low inclusive, high inclusive) of every numeric key, from the schema."""
    out: dict[str, tuple[float, float, bool, bool]] = {}
    for section, section_type in get_type_hints(Config).items():
        for name, hint in get_type_hints(section_type, include_extras=True).items():
            if get_origin(hint) is not Annotated or get_args(hint)[0] not in (int, float):
                continue
            for meta in get_args(hint)[1:]:
                if isinstance(meta, msgspec.Meta) and (meta.ge, meta.gt) != (None, None):
                    low = meta.ge if meta.ge is not None else meta.gt
                    high = meta.le if meta.le is not None else meta.lt
                    assert low is not None and high is not None
                    out[f"{section}.{name}"] = (low, high, meta.ge is not None, meta.le is not None)
    return out


RANGES: dict[str, tuple[float, float, bool, bool]] = _ranges()


def port_zone(name: str) -> tzinfo:
    """The zone of kiosk.time_zone ("UTC" or an IANA name such as Asia/Shanghai)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"kiosk.time_zone: {name!r} is not an IANA time zone") from exc


def _validate(config: Config) -> None:
    """What the schema cannot say: meaning of strings and relations between keys."""
    k = config.kiosk
    if not k.id.strip():
        raise ConfigError("kiosk.id: must not be blank")
    if not k.id.isprintable():
        raise ConfigError("kiosk.id: control characters are not allowed")
    port_zone(k.time_zone)  # ConfigError when it is not a time zone
    if config.face.uncertain_threshold < config.face.threshold:
        raise ConfigError("face.uncertain_threshold: must not be below face.threshold")
    for url_key in ("local_url", "border_url"):
        url = getattr(config.storage, url_key)
        if url_key == "border_url" and url == "":
            continue
        _check_url(f"storage.{url_key}", url)
    _check_pin_hash(k.maintenance_pin_hash)
    _validate_devices(config.devices)
    _validate_metrics(config.metrics)


def _validate_metrics(m: MetricsSection) -> None:
    import ipaddress

    try:
        ipaddress.ip_address(m.bind)
    except ValueError as exc:
        raise ConfigError(f"metrics.bind: {m.bind!r} is not an IP address") from exc
    if m.port and m.port == m.station_port:
        raise ConfigError("metrics.station_port: must differ from metrics.port")


def _check_pin_hash(value: str) -> None:
    """Empty (no maintenance exit) or an argon2id PHC string. A hash in any other form,
    such as the scrypt one older releases made, would never match: refuse it by name."""
    if not value:
        return
    from argon2 import Type, extract_parameters
    from argon2.exceptions import InvalidHashError

    make = "make a new one with `egate kiosk pin-hash` (the PIN on stdin)"
    if value.startswith("scrypt$"):
        raise ConfigError(
            f"kiosk.maintenance_pin_hash: an scrypt hash is no longer accepted (the PIN is "
            f"hashed with argon2id); {make}"
        )
    try:
        kind = extract_parameters(value).type
    except InvalidHashError:
        kind = None
    if kind is not Type.ID or not value.startswith("$argon2id$"):
        raise ConfigError(f"kiosk.maintenance_pin_hash: not an argon2id hash; {make}")


def _validate_devices(d: DevicesSection) -> None:
    """A real device needs its address (the schema checks the baud rates)."""
    if d.gate == "real" and not d.gate_port:
        raise ConfigError("devices.gate_port: the serial device of the gate controller is needed")
    if d.mrz_source == "real" and d.mrz_device == "serial" and not d.mrz_port:
        raise ConfigError("devices.mrz_port: the serial device of the MRZ reader is needed")


# The databases this build has drivers for (pyproject dependencies).
_URL_BACKENDS = {"sqlite", "postgresql"}


def _check_url(key: str, url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in url:
        raise ConfigError(f"{key}: {url!r} is not an SQLAlchemy URL")
    try:
        if url.startswith(("postgresql://", "postgres://")):
            from kiosk.store.libpq_url import normalise

            url = normalise(url)  # libpq's form, perhaps a primary and standbys listed
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"{key}: {url!r} is not an SQLAlchemy URL ({exc})") from exc
    if parsed.get_backend_name() not in _URL_BACKENDS:
        raise ConfigError(
            f"{key}: database {parsed.get_backend_name()!r} is not supported"
            " (use sqlite:/// or postgresql+psycopg://)"
        )
    try:  # the driver must be installed, or every write would fail later
        parsed.get_dialect().import_dbapi()
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(
            f"{key}: no driver {parsed.drivername!r} in this build"
            " (use sqlite:/// or postgresql+psycopg://)"
        ) from exc


def expand_url(url: str) -> str:
    """Expand "~" in the path of an SQLite URL (SQLAlchemy does not)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url[len(prefix) :].startswith("~"):
        return prefix + str(Path(url[len(prefix) :]).expanduser())
    return url


def border_url(config: Config) -> str:
    """The border database URL; empty config means an SQLite stand-in beside the local file."""
    if config.storage.border_url:
        return expand_url(config.storage.border_url)
    local = expand_url(config.storage.local_url)
    if local.startswith("sqlite:///") and local != "sqlite:///:memory:":
        beside = Path(local[len("sqlite:///") :]).with_name("border-standin.sqlite")
        return "sqlite:///" + str(beside)
    return "sqlite:///" + str(Path("~/.local/share/egate/border-standin.sqlite").expanduser())


def log_key_path(config: Config) -> Path:
    """Where the event log's sealing key lives (docs/border.md, "Tamper evidence")."""
    if config.storage.log_key_file:
        return Path(config.storage.log_key_file).expanduser()
    local = expand_url(config.storage.local_url)
    if local.startswith("sqlite:///") and local != "sqlite:///:memory:":
        return Path(local[len("sqlite:///") :]).with_name("log-seal.key")
    return Path("~/.local/share/egate/log-seal.key").expanduser()


def parse_config(data: dict[str, Any]) -> Config:
    """Validate parsed TOML against the schema; ConfigError names the key path."""
    try:
        config = msgspec.convert(data, Config, strict=True)
    except msgspec.ValidationError as exc:
        # Imported here: the policy package is heavy and only an error needs it.
        from policy.schema_errors import key_and_problem

        key, problem = key_and_problem(exc, data, Config)
        raise ConfigError(f"{key or 'config'}: {problem}") from exc
    _validate(config)
    return config


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load FILE, else $EGATE_CONFIG, else the embedded defaults."""
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    if path is None:
        return parse_config({})
    from kiosk.safe_files import TEXT_MAX_BYTES, UnsafeFileError, read_input

    p = Path(path)
    try:
        raw = read_input(p, TEXT_MAX_BYTES)
    except UnsafeFileError as exc:
        raise ConfigError(f"cannot read config file {exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError, huge integers
        raise ConfigError(f"{p}: not valid TOML ({exc})") from exc
    except RecursionError as exc:  # tables or arrays nested thousands deep
        raise ConfigError(f"{p}: not valid TOML (nested too deeply)") from exc
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from exc
