"""Read the packs and data files shipped inside the package.

The one place in policy/ that touches stored data, through importlib.resources
so it works from a wheel or a zip; everything else receives text.
"""

from __future__ import annotations

from importlib import resources

from policy.airports import AirportTable
from policy.pack import PolicyPack, parse_pack

_PACKS = "packs"


def shipped_pack_texts() -> dict[str, bytes]:
    """Name -> raw bytes of every shipped pack (policy/packs/*.toml), sorted by name."""
    folder = resources.files("policy").joinpath(_PACKS)
    return {
        entry.name: entry.read_bytes()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml") and entry.is_file()
    }


def shipped_packs() -> tuple[PolicyPack, ...]:
    """Every shipped pack, validated (a shipped pack that fails is a build defect)."""
    return tuple(
        parse_pack(raw, origin=f"shipped:{name}") for name, raw in shipped_pack_texts().items()
    )


def airports_csv() -> str:
    """The shipped IATA airport -> state/region table (policy/data/airports.csv)."""
    return resources.files("policy").joinpath("data", "airports.csv").read_text("utf-8")


def shipped_airports() -> AirportTable:
    """The shipped airport table, parsed."""
    return AirportTable.from_csv(airports_csv())
