"""Every numeric config key has a range the storage and the clocks can hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_type_hints

import pytest

from kiosk.config import RANGES, Config, ConfigError, load_config, parse_config

INT32_MAX = 2**31 - 1  # the lane column in SQLite and PostgreSQL (Integer)


def numeric_keys() -> list[str]:
    keys = []
    for section, hint in get_type_hints(Config).items():
        for f, t in get_type_hints(hint).items():
            if t in (int, float):
                keys.append(f"{section}.{f}")
    return keys


def test_every_numeric_key_has_a_range() -> None:
    assert sorted(numeric_keys()) == sorted(RANGES)


def test_defaults_lie_in_their_ranges() -> None:
    parse_config({})


def with_value(key: str, value: Any) -> dict[str, Any]:
    section, name = key.split(".")
    return {section: {name: value}}


@pytest.mark.parametrize("key", sorted(RANGES))
def test_just_outside_the_range_is_refused_naming_the_key(key: str) -> None:
    low, high, low_inclusive, high_inclusive = RANGES[key]
    integer = isinstance(low, int)
    step = 1 if integer else 1e-9 * max(1.0, abs(high))
    for bad in (low - step if low_inclusive else low, high + step if high_inclusive else high):
        value = int(bad) if integer else float(bad)
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            parse_config(with_value(key, value))
    for good in (low if low_inclusive else None, high if high_inclusive else None):
        if good is not None:
            parse_config(with_value(key, good))


@pytest.mark.parametrize("lane", [99999999999999999999, 3_000_000_000, 0, -1])
def test_lanes_the_databases_cannot_hold_are_refused(lane: int) -> None:
    with pytest.raises(ConfigError, match=r"kiosk\.lane"):
        parse_config({"kiosk": {"lane": lane}})
    assert RANGES["kiosk.lane"][1] <= INT32_MAX


@pytest.mark.parametrize(
    ("key", "value"),
    [("privacy.referral_image_retention_h", 1e308), ("storage.sync_interval_s", 1e10),
     ("timeouts.document_s", 1e300), ("face.max_frames", 10**30)],
)  # fmt: skip
def test_values_that_overflowed_clocks_are_refused(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_config(with_value(key, value))


@pytest.mark.parametrize("url", ["foo://", "mysql://u@h/db", "nonsense", "sqlite+nosuch:///x"])
def test_unsupported_storage_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match=r"storage\.local_url"):
        parse_config({"storage": {"local_url": url}})


@pytest.mark.parametrize(
    "text",
    ["a = " + "[" * 50_000 + "]" * 50_000, "[kiosk]\nlane = " + "9" * 5000, "x = \xff"],
)
def test_deep_or_huge_toml_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "k.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if "\xff" not in text else b"x=\xff")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
