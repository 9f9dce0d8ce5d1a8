"""Whether the chip proved it is the one the issuing state made (ICAO 9303-11 6.1
chip authentication, 6.2 active authentication).

Passive authentication proves the data is genuine, not the chip: a copy of every
file passes it. Only a chip holding the private key of DG14 (CA) or DG15 (AA) can
answer the challenge, so a chip whose EF.SOD lists DG14 or DG15 must pass one of
them. Reading EF.SOD for this, not EF.COM, matters: EF.COM is unsigned, and a clone
that leaves DG14 and DG15 out of it would otherwise look like an old chip that
supports neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from devices.icao9303.sod import SodError, parse_sod

ANTI_CLONING_DGS = frozenset({14, 15})

# Reason codes (the officer's detail; the policy sees chip_genuine false).
REASONS = (
    "chip_authentication_failed",
    "active_authentication_failed",
    "anti_cloning_not_performed",
)


@dataclass(frozen=True)
class AntiCloning:
    genuine: bool | None  # None: the chip announces neither CA nor AA
    reason: str | None


def sod_data_groups(files: Mapping[str, bytes]) -> frozenset[int] | None:
    """The data group numbers EF.SOD lists; None when it is absent or malformed."""
    raw = files.get("EF.SOD")
    if raw is None:
        return None
    try:
        return frozenset(parse_sod(raw).dg_hashes)
    except SodError:
        return None


def assess(
    files: Mapping[str, bytes], chip_authentication: str, active_authentication: str
) -> AntiCloning:
    """chip_authentication / active_authentication: "passed", "failed" or
    "not_supported", as the reader reports them."""
    if chip_authentication == "failed":
        return AntiCloning(False, "chip_authentication_failed")
    if active_authentication == "failed":
        return AntiCloning(False, "active_authentication_failed")
    if "passed" in (chip_authentication, active_authentication):
        return AntiCloning(True, None)
    listed = sod_data_groups(files)
    announced = {n for n in ANTI_CLONING_DGS if f"DG{n}" in files}
    if listed is None or announced or listed & ANTI_CLONING_DGS:
        # An unreadable EF.SOD cannot show that the chip has no keys: fail closed.
        return AntiCloning(False, "anti_cloning_not_performed")
    return AntiCloning(None, None)
