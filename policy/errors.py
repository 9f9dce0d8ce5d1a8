"""Typed errors of the policy package; each message names the offending field."""

from __future__ import annotations


class PolicyError(ValueError):
    """Base of every error the policy package raises on bad input."""


class CaseError(PolicyError):
    """The case does not follow the documented case format."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"case.{field}: {problem}" if field else f"case: {problem}")
        self.field = field
        self.problem = problem


class PackError(PolicyError):
    """A policy pack failed validation; it must not be used."""

    def __init__(self, origin: str, key: str, problem: str) -> None:
        where = f"{origin}: {key}" if key else origin
        super().__init__(f"{where}: {problem}")
        self.origin = origin
        self.key = key
        self.problem = problem


class NoPackInForce(PolicyError):
    """No valid pack covers the port on the date of the check."""


class BcbpError(PolicyError):
    """A boarding-pass barcode is not a well-formed IATA BCBP string."""
