"""Shared helpers for the policy tests: the shipped packs and a case builder."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policy.pack import PolicyPack
from policy.shipped import shipped_packs

BASE_CASE: dict[str, Any] = {
    "now": "2026-03-01T10:30:00+08:00",
    "port": "CSX",
    "direction": "entry",
    "document": {
        "document_code": "P",
        "issuing_state": "USA",
        "nationality": "USA",
        "document_number": "X1234567",
        "birth_date": "1990-01-31",
        "sex": "F",
        "expiry_date": "2031-01-01",
    },
    "checks": {
        "document_authentic": True,
        "chip_genuine": True,
        "face_match": True,
        "liveness": True,
        "watchlist_hit": False,
    },
    "journey": {
        "arrived_from": "JPN",
        "onward": {
            "destination": "KOR",
            "departure_time": "2026-03-05T20:00:00+08:00",
            "departure_port": "CSX",
            "confirmed": True,
        },
    },
    "visa": None,
    "reference_data": {"age_hours": 1.0},
}

_DELETE = object()


def make_case(overrides: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """BASE_CASE with dotted-path overrides ("document.nationality": "IDN").

    A value of DELETE removes the key.
    """
    case = copy.deepcopy(BASE_CASE)
    merged = {**(overrides or {}), **top}
    for path, value in merged.items():
        keys = path.split(".")
        target = case
        for key in keys[:-1]:
            if target.get(key) is None:
                target[key] = {}
            target = target[key]
        if value is _DELETE:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value
    return case


DELETE = _DELETE


def citizen() -> dict[str, Any]:
    return {
        "document.nationality": "CHN",
        "document.issuing_state": "CHN",
        "document.document_number": "E12345678",
    }


@pytest.fixture(scope="session")
def packs() -> tuple[PolicyPack, ...]:
    return shipped_packs()
