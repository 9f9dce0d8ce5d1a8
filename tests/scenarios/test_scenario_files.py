"""Scenario files are checked whole when they load (issue 22 item 5): a misspelt key,
screen, action or code, a bad date or a clock without an offset is an error naming
the file, the line and the closest known name, before anything runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.simulation.scenario import ScenarioError, load_scenario
from kiosk.simulation.scenario_clock import DEFAULT_CLOCK, PinnedClock
from kiosk.simulation.simulated_kiosk import SampleTraveller

HERE = Path(__file__).parent
REFUSED = (HERE / "transit-240h-refused.yaml").read_text()


def _bad(tmp_path: Path, text: str) -> str:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    started = time.monotonic()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    assert time.monotonic() - started < 5.0  # found at load, not after a run
    message = str(caught.value)
    assert str(bad) in message
    return message


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_typo_inside_spec_names_the_typo_its_line_and_the_right_key(tmp_path: Path) -> None:
    text = REFUSED.replace("hours_after_arrival", "hours_after_arival")
    message = _bad(tmp_path, text)
    assert "'hours_after_arival'" in message
    assert "did you mean 'hours_after_arrival'" in message
    assert f"line {_line_of(text, 'hours_after_arival')}" in message


def test_a_bad_date_names_the_field_and_line(tmp_path: Path) -> None:
    text = REFUSED.replace('"1956-11-19"', '"1956-13-19"')
    message = _bad(tmp_path, text)
    assert "traveller.spec.birth_date" in message and "date" in message
    assert f"line {_line_of(text, 'birth_date')}" in message
    assert "ValueError" not in message


@pytest.mark.parametrize(("wrong", "right", "needle"), [
    ("expect: see_oficer", "see_officer", "see_oficer"),         # a screen
    ("expect: {screen: see_oficer}", "see_officer", "see_oficer"),  # a screen in a mapping
    ("place_pasport: {}", "place_passport", "place_pasport"),    # an action
    ("start: em", "en", "start: em"),                            # a language
    ("expcet: {outcome", "expect", "expcet"),                    # a top-level key
    ("reasons: [transit_exceeds_limt]", "transit_exceeds_limit", "limt"),  # a reason code
    ("outcome: refered", "referred", "refered"),                 # an outcome
])
def test_misspelt_names_get_a_suggestion(tmp_path: Path, wrong: str, right: str,
                                         needle: str) -> None:
    original = {"see_officer": "expect: see_officer", "place_passport": "place_passport: {}",
                "en": "start: en", "expect": "expect: {outcome",
                "transit_exceeds_limit": "reasons: [transit_exceeds_limit]",
                "referred": "outcome: referred"}[right]
    if wrong == "expect: {screen: see_oficer}":
        text = REFUSED.replace("  - expect: see_officer", "  - expect: {screen: see_oficer}")
    else:
        text = REFUSED.replace(original, wrong, 1)
    assert text != REFUSED
    message = _bad(tmp_path, text)
    assert f"did you mean {right!r}" in message
    assert f"line {_line_of(text, needle)}" in message


def test_other_mistakes_are_clear(tmp_path: Path) -> None:
    naive = REFUSED.replace("config:", "clock: 2026-03-10T02:00:00\nconfig:")
    assert "timezone" in _bad(tmp_path, naive)  # a naive instant: no offset
    assert "Expected `float`" in _bad(tmp_path, REFUSED.replace(
        "hours_after_arrival: 260", "hours_after_arrival: soon"))
    assert "unknown defect 'expird'" in _bad(tmp_path, REFUSED.replace(
        "portrait: collins", "portrait: collins\n    defects: [expird]"))
    assert "did you mean 'collins'" in _bad(tmp_path, REFUSED.replace(
        "portrait: collins", "portrait: colins"))  # a value of a fixed set
    assert "did you mean 'offline'" in _bad(tmp_path, "border: offine\n" + REFUSED)
    assert "a scenario is a mapping" in _bad(tmp_path, "- just\n- a list\n")
    assert "'within'" in _bad(tmp_path, REFUSED.replace(
        "expect: see_officer", "expect: {screen: see_officer, withn: 3}"))


def test_every_shipped_scenario_loads() -> None:
    for path in sorted(HERE.glob("**/*.yaml")):
        load_scenario(path)


def test_the_clock_is_pinned_not_the_machines() -> None:
    refused = load_scenario(HERE / "transit-240h-refused.yaml")
    assert refused.clock == DEFAULT_CLOCK  # no clock: in the file, the fixed default
    late = load_scenario(HERE / "transit-240h-arrive-before-midnight.yaml")
    assert late.clock.isoformat() == "2026-03-10T23:30:00+08:00"
    clock = PinnedClock()
    clock.pin(late.clock)
    assert abs((clock.now() - late.clock).total_seconds()) < 5.0


def test_spec_travellers_are_keyed_by_their_file_and_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(REFUSED)
    b.write_text(REFUSED.replace("hours_after_arrival: 260", "hours_after_arrival: 20"))
    ta: SampleTraveller = load_scenario(a).traveller
    tb: SampleTraveller = load_scenario(b).traveller
    assert ta.key != tb.key and ta.key != "scenario" and ta.key.startswith("usa-transit-260h@")
    assert load_scenario(a).traveller.key == ta.key  # the same file, the same traveller
