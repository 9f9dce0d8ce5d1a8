"""One definition of "under CI": missing test services fail there, skip elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import tests.chip.conftest as chip_conftest
from devices.errors import DeviceFault
from devices.icao9303 import pcsc
from tests.ci import unavailable, under_ci


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("false", False), ("FALSE", False), ("0", False),
     (" ", False), ("true", True), ("1", True), ("yes", True), ("True", True)],
)  # fmt: skip
def test_under_ci_means_ci_set_to_something_but_false_or_0(
    value: str | None, expected: bool
) -> None:
    assert under_ci({} if value is None else {"CI": value}) is expected


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                             ("1", pytest.fail.Exception),
                                             ("false", pytest.skip.Exception),
                                             ("", pytest.skip.Exception)])  # fmt: skip
def test_a_missing_service_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="PostgreSQL is gone"):
        unavailable("PostgreSQL is gone")


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                             ("", pytest.skip.Exception)])  # fmt: skip
def test_pcscd_fixture_without_the_vpcd_driver(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(chip_conftest, "VPCD_DRIVER_CONF", str(tmp_path / "no-vpcd"))
    with pytest.raises(outcome, match="vpcd driver is not installed"):
        next(chip_conftest.pcscd_reader())


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                             ("", pytest.skip.Exception)])  # fmt: skip
def test_pcscd_fixture_when_the_virtual_reader_does_not_come_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    driver = tmp_path / "vpcd"
    driver.write_text("DEVICENAME /dev/null\n")

    @contextmanager
    def no_reader(name: str) -> Iterator[None]:
        raise DeviceFault(f"reader {name!r} did not appear within 10 s")
        yield  # pragma: no cover

    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(chip_conftest, "VPCD_DRIVER_CONF", str(driver))
    monkeypatch.setattr(pcsc, "pcscd_running", no_reader)
    with pytest.raises(outcome, match="did not come up"):
        next(chip_conftest.pcscd_reader())
