"""Shared builders for the trust tests: test PKIs (keys cached per process by
devices.simulated.pki) and documents signed with them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from devices.simulated import pki
from kiosk.trust import REASON_CODES, CscaStore, PassiveAuthenticator

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DGS = {
    1: b"\x61\x5b\x5f\x1f" + b"P<UTOERIKSSON<<ANNA<MARIA" * 3,
    2: b"\x75\x10face",
    14: b"\x6e\x05ca",
}


def files_of(raw_sod: bytes, dgs: dict[int, bytes] | None = None) -> dict[str, bytes]:
    dgs = DGS if dgs is None else dgs
    return {"EF.SOD": raw_sod, **{f"DG{n}": b for n, b in dgs.items()}}


@pytest.fixture(scope="session")
def make_pki() -> Callable[..., pki.TestPki]:
    cache: dict[tuple[Any, ...], pki.TestPki] = {}

    def build(algorithm: str = "rsa2048", country: str = "UTO", **kw: Any) -> pki.TestPki:
        key = (algorithm, country, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = pki.make_test_pki(country, algorithm=algorithm, now=NOW, **kw)
        return cache[key]

    return build


@pytest.fixture(scope="session")
def rsa_pki(make_pki: Callable[..., pki.TestPki]) -> pki.TestPki:
    return make_pki("rsa2048")


def document(p: pki.TestPki, dgs: dict[int, bytes] | None = None, **kw: Any) -> dict[str, bytes]:
    kw.setdefault("signing_time", NOW)
    return files_of(pki.build_sod(DGS if dgs is None else dgs, p.ds_cert, p.ds_key, **kw), dgs)


def verify(
    files: dict[str, bytes],
    trusted: list[bytes],
    crls: list[bytes] | None = None,
    at: datetime = NOW,
    **kw: Any,
) -> dict[str, Any]:
    store = CscaStore.from_certificates(trusted, crls or [])
    result = PassiveAuthenticator(store, **kw).authenticate(files, at)
    assert result.valid == (result.detail["verdict"] == "valid")
    assert result.reason == result.detail["reason"]
    for reason in result.detail["reasons"]:
        assert re.sub(r"dg[0-9]+$", "dg<n>", reason) in REASON_CODES, reason
    return dict(result.detail)
