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
    lane: int = 1
    direction: Literal["entry", "exit"] = "entry"
    languages: tuple[str, ...] = ("zh_CN", "en", "ja", "ko", "ru")
    fullscreen: bool = False
    # Traveller window locked down (frameless fullscreen, no close, no shortcut
    # escapes, cursor hidden); `egate demo` never locks down.
    lockdown: bool = True
    screen: int = 0  # index of the screen the traveller window fills
    # Maintenance exit: scrypt hash of the officer PIN (`egate kiosk pin-hash`);
    # empty = no maintenance exit (SIGTERM still stops the kiosk cleanly).
    maintenance_pin_hash: str = ""
    speech: bool = True  # speak every prompt (false = muted)
    high_contrast: bool = False


@dataclass(frozen=True)
class DevicesSection:
    reader: DeviceKind = "simulated"
    reader_name: str = ""  # PC/SC reader name (substring); empty = first reader
    camera: DeviceKind = "simulated"
    camera_source: str = "0"  # device index, file or stream URL for a real camera
    gate: DeviceKind = "simulated"
    mrz_source: DeviceKind = "simulated"


@dataclass(frozen=True)
class StorageSection:
    local_url: str = "sqlite:///~/.local/share/egate/local.sqlite"  # "~" is expanded
    # Empty: an embedded SQLite file stands in for the border database.
    border_url: str = ""
    sync_interval_s: float = 10.0


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
    # dlib ResNet distance at or below which faces match; calibrated in docs/face.md.
    threshold: float = 0.45
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
class Config:
    kiosk: KioskSection = field(default_factory=KioskSection)
    devices: DevicesSection = field(default_factory=DevicesSection)
    storage: StorageSection = field(default_factory=StorageSection)
    timeouts: TimeoutsSection = field(default_factory=TimeoutsSection)
    face: FaceSection = field(default_factory=FaceSection)
    policy: PolicySection = field(default_factory=PolicySection)
    privacy: PrivacySection = field(default_factory=PrivacySection)


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


def _validate(config: Config) -> None:
    k = config.kiosk
    if not k.id.strip():
        raise ConfigError("kiosk.id: must not be empty")
    if len(k.id) > 64:
        raise ConfigError("kiosk.id: at most 64 characters (it is stored with every event)")
    if not _IATA.match(k.port):
        raise ConfigError(f"kiosk.port: {k.port!r} is not a three-letter IATA airport code")
    if k.lane < 1:
        raise ConfigError(f"kiosk.lane: must be 1 or more, got {k.lane}")
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
        if "://" not in url:
            raise ConfigError(f"storage.{url_key}: {url!r} is not an SQLAlchemy URL")
    if config.storage.sync_interval_s <= 0:
        raise ConfigError("storage.sync_interval_s: must be positive")
    for f in fields(TimeoutsSection):
        if getattr(config.timeouts, f.name) <= 0:
            raise ConfigError(f"timeouts.{f.name}: must be positive")
    if not 0.0 < config.face.threshold < 2.0:
        raise ConfigError(f"face.threshold: {config.face.threshold} is outside (0, 2)")
    if config.face.budget_s <= 0:
        raise ConfigError("face.budget_s: must be positive")
    if config.face.max_frames < 1:
        raise ConfigError("face.max_frames: must be 1 or more")
    if config.policy.reference_max_age_h <= 0:
        raise ConfigError("policy.reference_max_age_h: must be positive")
    if config.privacy.referral_image_retention_h < 0:
        raise ConfigError("privacy.referral_image_retention_h: must not be negative")


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
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from exc
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from exc
