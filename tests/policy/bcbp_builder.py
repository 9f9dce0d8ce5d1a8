"""Builds IATA BCBP 'M' strings field by field (Resolution 792 layout) for tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Leg:
    from_airport: str
    to_airport: str
    carrier: str = "CA"
    flight: str = "0123"
    day: int = 64
    seat: str = "012A"
    compartment: str = "Y"
    pnr: str = "ABC123"
    sequence: str = "0025"
    status: str = "1"
    marketing: str = ""


def _pad(text: str, n: int) -> str:
    assert len(text) <= n, (text, n)
    return text.ljust(n)


def build_bcbp(
    name: str,
    legs: list[Leg],
    *,
    version: int | None = 6,
    issue: str = "6063",
    security: str | None = None,
) -> str:
    out = ["M", str(len(legs)), _pad(name, 20), "E"]
    for i, leg in enumerate(legs):
        mandatory = (
            _pad(leg.pnr, 7)
            + leg.from_airport
            + leg.to_airport
            + _pad(leg.carrier, 3)
            + _pad(leg.flight, 5)
            + f"{leg.day:03d}"
            + leg.compartment
            + _pad(leg.seat, 4)
            + _pad(leg.sequence, 5)
            + leg.status
        )
        repeated = "014" + "1234567890" + " " + "1" + _pad(leg.marketing, 3)
        variable = f"{len(repeated):02X}" + repeated
        if i == 0 and version is not None:
            unique = "1" + "W" + "W" + issue + "B" + _pad(leg.carrier, 3)
            variable = f">{version}{len(unique):02X}{unique}" + variable
        out.append(mandatory + f"{len(variable):02X}" + variable)
    if security is not None:
        out.append(f"^1{len(security):02X}{security}")
    return "".join(out)
