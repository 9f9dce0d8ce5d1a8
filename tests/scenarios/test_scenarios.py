"""Every QA scenario in this folder, through the real lane and the real Qt window
(pytest-qt's QApplication, offscreen): screens, spoken prompts, outcome, and no
sensitive reason on the traveller's screen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.runtime.app import open_storage
from kiosk.simulation.scenario import KioskPool, ScenarioError, load_scenario, run_scenario

FILES = sorted(Path(__file__).parent.glob("*.yaml"))


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskPool]:
    pool = KioskPool(tmp_path_factory.mktemp("scenarios"), open_storage)
    yield pool
    pool.close()


def test_at_least_the_listed_scenarios_ship() -> None:
    names = {p.stem for p in FILES}
    for required in ("pass", "face-mismatch", "printed-photo", "expired-passport",
                     "tampered-chip", "unknown-csca", "transit-240h-admitted",
                     "transit-240h-refused", "boarding-pass", "boarding-pass-self-made",
                     "passport-removed-early",
                     "timeout-place-passport", "timeout-face", "timeout-boarding-pass",
                     "timeout-gate-passage", "walk-away", "language-switch", "camera-fault",
                     "border-database-offline", "passport-left-on-reader"):
        assert required in names


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(path: Path, pool: KioskPool, qapp: QApplication) -> None:
    from ui.scenario_probe import WindowProbe

    result = run_scenario(load_scenario(path), pool, WindowProbe())
    assert result.passed, json.dumps(result.as_json(), indent=1, ensure_ascii=False)


def test_a_wrong_expectation_fails_the_scenario(pool: KioskPool, qapp: QApplication,
                                                tmp_path: Path) -> None:
    from ui.scenario_probe import WindowProbe

    text = (Path(__file__).parent / "timeout-place-passport.yaml").read_text()
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("outcome: aborted", "outcome: admitted"))
    result = run_scenario(load_scenario(wrong), pool, WindowProbe())
    assert not result.passed and "outcome 'aborted'" in (result.failure or "")


def test_bad_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntraveller: {sample: chn-citizen}\nsteps:\n  - jump: 3\n")
    with pytest.raises(ScenarioError, match="unknown action 'jump'"):
        load_scenario(bad)
    bad.write_text("name: x\ntraveller: {sample: nobody-like-this}\n")
    with pytest.raises(ScenarioError, match="unknown sample traveller 'nobody-like-this'"):
        load_scenario(bad)
    bad.write_text("traveller: {sample: chn-citizen}\nexpect: {reasons: [made_up]}\n")
    with pytest.raises(ScenarioError, match="unknown reason code"):
        load_scenario(bad)
    bad.write_text("name: x\n")
    with pytest.raises(ScenarioError, match="missing required field `traveller`"):
        load_scenario(bad)
    bad.write_text("name: x\ntraveller: {face: same}\n")
    with pytest.raises(ScenarioError, match="give 'sample: KEY'"):
        load_scenario(bad)
