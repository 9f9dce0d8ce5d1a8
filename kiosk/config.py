"""Kiosk configuration: a TOML file validated against a typed schema.

Unknown keys, wrong types and out-of-range values are errors that name the key:
a kiosk that cannot read its configuration refuses to start rather than running
half-configured.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

ENV_VAR = "EGATE_CONFIG"


class ConfigError(ValueError):
    """The configuration is unusable; the message names the key and the problem."""


DeviceKind = Literal["simulated", "real"]


@dataclass(frozen=True)
class KioskSection:
    id: str = "SIM-CSX-01"
    port: str = "CSX"  # IATA code of the airport the lane serves
    # The port's IANA time zone: the supervisor station shows local times in it.
    time_zone: str = "Asia/Shanghai"
    lane: int = 1
    direction: Literal["entry", "exit"] = "entry"
    languages: tuple[str, ...] = ("zh_CN", "en", "ja", "ko", "ru")
    fullscreen: bool = False
    # Traveller window locked down (frameless fullscreen, no close, no shortcut
    # escapes, cursor hidden); `egate demo` never locks down.
    lockdown: bool = True
    screen: int = 0  # index of the screen the traveller window fills
    # Maintenance exit: argon2id hash of the officer PIN (`egate kiosk pin-hash`);
    # empty = no maintenance exit (SIGTERM still stops the kiosk cleanly).
    maintenance_pin_hash: str = ""
    speech: bool = True  # speak every prompt (false = muted)
    # Which engine speaks (docs/traveller.md): "auto" tries espeak-ng, then the
    # speech-dispatcher service; the named one only otherwise. None works: silence.
    speech_engine: Literal["auto", "espeak-ng", "speechd"] = "auto"
    high_contrast: bool = False


@dataclass(frozen=True)
class DevicesSection:
    reader: DeviceKind = "simulated"
    reader_name: str = ""  # PC/SC reader name (substring); empty = first reader
    camera: DeviceKind = "simulated"
    camera_source: str = "0"  # device index, file or stream URL for a real camera
    gate: DeviceKind = "simulated"
    gate_port: str = ""  # serial device of the gate controller (docs/gate.md), e.g. /dev/egate-gate
    gate_baud: int = 9600
    mrz_source: DeviceKind = "simulated"
    mrz_device: Literal["camera", "serial"] = "camera"  # page camera OCR, or an MRZ line reader
    mrz_camera_source: str = ""  # document camera (index, file, URL); empty = the face camera
    mrz_port: str = ""  # serial device of an MRZ line reader
    mrz_baud: int = 9600


@dataclass(frozen=True)
class StorageSection:
    local_url: str = "sqlite:///~/.local/share/egate/local.sqlite"  # "~" is expanded
    # Empty: an embedded SQLite file stands in for the border database.
    border_url: str = ""
    sync_interval_s: float = 10.0
    # The event log's sealing key (`egate log enrol`), kept outside the database
    # file; empty: log-seal.key beside an SQLite local_url.
    log_key_file: str = ""


@dataclass(frozen=True)
class TimeoutsSection:
    document_s: float = 60.0  # traveller to place the passport
    face_s: float = 10.0  # traveller to present a usable face
    boarding_pass_s: float = 15.0  # traveller to show a boarding pass barcode
    gate_passage_s: float = 20.0  # traveller to walk through an open gate
    result_display_s: float = 3.0
    error_display_s: float = 8.0  # an error screen stays this long (or until "start again")
    document_return_s: float = 30.0  # traveller to take the passport back


@dataclass(frozen=True)
class FaceSection:
    # dlib ResNet distance at or below which faces match and the gate may open: the
    # strict point whose FMR holds within East Asian pairs (docs/face.md, "Threshold").
    threshold: float = 0.37
    # Above `threshold` and at most this: "match_uncertain", referred for an officer
    # to compare the photos (the model cannot tell such faces apart at 0.1% FMR).
    uncertain_threshold: float = 0.55
    budget_s: float = 1.5  # time to pick the best of the frames
    max_frames: int = 8
    liveness: Literal["off", "passive", "challenge"] = "passive"


@dataclass(frozen=True)
class PolicySection:
    pack_dir: str = ""  # extra policy packs; empty = the shipped packs only
    reference_max_age_h: float = 24.0


@dataclass(frozen=True)
class PrivacySection:
    referral_image_retention_h: float = 24.0


@dataclass(frozen=True)
class LoggingSection:
    level: Literal["debug", "info", "warning", "error"] = "info"  # JSON lines on stderr


@dataclass(frozen=True)
class Config:
    kiosk: KioskSection = field(default_factory=KioskSection)
    devices: DevicesSection = field(default_factory=DevicesSection)
    storage: StorageSection = field(default_factory=StorageSection)
    timeouts: TimeoutsSection = field(default_factory=TimeoutsSection)
    face: FaceSection = field(default_factory=FaceSection)
    policy: PolicySection = field(default_factory=PolicySection)
    privacy: PrivacySection = field(default_factory=PrivacySection)
    logging: LoggingSection = field(default_factory=LoggingSection)


_IATA = re.compile(r"^[A-Z]{3}$")
_LANGUAGES = {"zh_CN", "en", "ja", "ko", "ru"}


def _coerce(key: str, value: Any, hint: Any) -> Any:
    origin = get_origin(hint)
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(f"{key}: {value!r} is not one of {choices}")
        return value
    if origin in (Union, UnionType):
        raise ConfigError(f"{key}: unsupported schema type")  # not used by the schema
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):  # TOML allows nan and inf; no setting does
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported schema type {hint!r}")


def _build(cls: type[Any], data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a table, got {data!r}")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    for key in data:
        if key not in known:
            where = f"{prefix}.{key}" if prefix else key
            raise ConfigError(f"{where}: unknown key (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        key = f"{prefix}.{f.name}" if prefix else f.name
        hint = hints[f.name]
        if is_dataclass(hint):
            values[f.name] = _build(hint, data[f.name], key)  # type: ignore[arg-type]
        else:
            values[f.name] = _coerce(key, data[f.name], hint)
    return cls(**values)


# Every numeric key has a closed range: what the storage can hold (the lane is a
# 32-bit integer in both databases), what the clock calls accept (threading waits
# overflow beyond ~292 years) and what makes sense for a kiosk. (low, high, low
# inclusive, high inclusive); a test checks that every int/float key is listed here.
RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "kiosk.lane": (1, 9999, True, True),
    "kiosk.screen": (0, 15, True, True),  # a Qt screen index
    "devices.gate_baud": (1200, 115200, True, True),  # and one of _BAUD_RATES
    "devices.mrz_baud": (1200, 115200, True, True),
    "storage.sync_interval_s": (0.0, 86400.0, False, True),  # at most a day between syncs
    "timeouts.document_s": (0.0, 3600.0, False, True),
    "timeouts.face_s": (0.0, 600.0, False, True),
    "timeouts.boarding_pass_s": (0.0, 600.0, False, True),
    "timeouts.gate_passage_s": (0.0, 600.0, False, True),
    "timeouts.result_display_s": (0.0, 600.0, False, True),
    "timeouts.error_display_s": (0.0, 600.0, False, True),
    "timeouts.document_return_s": (0.0, 600.0, False, True),
    "face.threshold": (0.0, 2.0, False, False),  # dlib distances lie in [0, 2)
    "face.uncertain_threshold": (0.0, 2.0, False, False),
    "face.budget_s": (0.0, 60.0, False, True),
    "face.max_frames": (1, 1000, True, True),
    "policy.reference_max_age_h": (0.0, 8760.0, False, True),  # a year; packs allow 24 h
    # Biometric images are kept no longer than needed: 30 days at the very most.
    "privacy.referral_image_retention_h": (0.0, 720.0, True, True),
}


def _check_range(key: str, value: float) -> None:
    low, high, low_inclusive, high_inclusive = RANGES[key]
    above = value >= low if low_inclusive else value > low
    below = value <= high if high_inclusive else value < high
    if not (above and below):
        opening, closing = "[("[not low_inclusive], "])"[not high_inclusive]
        raise ConfigError(f"{key}: {value!r} is outside {opening}{low:g}, {high:g}{closing}")


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
    k = config.kiosk
    if not k.id.strip():
        raise ConfigError("kiosk.id: must not be empty")
    if len(k.id) > 64:
        raise ConfigError("kiosk.id: at most 64 characters (it is stored with every event)")
    if not k.id.isprintable():
        raise ConfigError("kiosk.id: control characters are not allowed")
    if not _IATA.match(k.port):
        raise ConfigError(f"kiosk.port: {k.port!r} is not a three-letter IATA airport code")
    port_zone(k.time_zone)  # ConfigError when it is not a time zone
    for key in RANGES:
        section, name = key.split(".")
        _check_range(key, getattr(getattr(config, section), name))
    if config.face.uncertain_threshold < config.face.threshold:
        raise ConfigError("face.uncertain_threshold: must not be below face.threshold")
    if not k.languages:
        raise ConfigError("kiosk.languages: at least one language is needed")
    for lang in k.languages:
        if lang not in _LANGUAGES:
            raise ConfigError(
                f"kiosk.languages: {lang!r} has no translation (have {sorted(_LANGUAGES)})"
            )
    for url_key in ("local_url", "border_url"):
        url = getattr(config.storage, url_key)
        if url_key == "border_url" and url == "":
            continue
        _check_url(f"storage.{url_key}", url)
    _check_pin_hash(k.maintenance_pin_hash)
    _validate_devices(config.devices)


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
    """A real device needs its address; a baud rate must be one a UART offers."""
    if d.gate == "real" and not d.gate_port:
        raise ConfigError("devices.gate_port: the serial device of the gate controller is needed")
    if d.mrz_source == "real" and d.mrz_device == "serial" and not d.mrz_port:
        raise ConfigError("devices.mrz_port: the serial device of the MRZ reader is needed")
    for key in ("gate_baud", "mrz_baud"):
        if getattr(d, key) not in _BAUD_RATES:
            raise ConfigError(f"devices.{key}: {getattr(d, key)} is not one of {_BAUD_RATES}")


_BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


# The databases this build has drivers for (pyproject dependencies).
_URL_BACKENDS = {"sqlite", "postgresql"}


def _check_url(key: str, url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in url:
        raise ConfigError(f"{key}: {url!r} is not an SQLAlchemy URL")
    try:
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
    config: Config = _build(Config, data, "")
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
