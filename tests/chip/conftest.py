"""Shared fixtures: virtual passports from the document factory (built once per session)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devices.simulated.factory import DocumentSpec, make_document
from devices.simulated.virtual_passport import VirtualPassport
from tests.border.conftest import pg_border, pg_database, pg_server  # noqa: F401  (fixtures)
from tests.ci import unavailable

VPCD_DRIVER_CONF = "/etc/reader.conf.d/vpcd"

_CACHE: dict[tuple[str, ...], VirtualPassport] = {}


def passport(*defects: str, **spec: object) -> VirtualPassport:
    """A factory passport, cached by its defects and spec fields."""
    key = (*defects, *(f"{k}={v}" for k, v in sorted(spec.items())))
    if key not in _CACHE:
        _CACHE[key] = make_document(DocumentSpec(**spec), defects=defects)  # type: ignore[arg-type]
    return _CACHE[key]


@pytest.fixture(scope="session")
def make_passport() -> Callable[..., VirtualPassport]:
    return passport


@pytest.fixture(scope="session")
def pace_passport() -> VirtualPassport:
    return passport()


def pcscd_reader() -> Iterator[str]:
    """pcscd with vsmartcard's vpcd reader, started here (and stopped) when not
    running; a reader that does not come up fails under CI, skips elsewhere."""
    from devices.errors import DeviceFault
    from devices.icao9303 import pcsc

    if not Path(VPCD_DRIVER_CONF).exists():
        unavailable(f"the vsmartcard vpcd driver is not installed ({VPCD_DRIVER_CONF})")
    try:
        with pcsc.pcscd_running(pcsc.VIRTUAL_READER):
            yield pcsc.VIRTUAL_READER
    except DeviceFault as exc:
        unavailable(f"the virtual reader did not come up: {exc}")


@pytest.fixture(scope="session")
def pcscd() -> Iterator[str]:
    yield from pcscd_reader()
