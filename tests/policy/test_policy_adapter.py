"""PackPolicy: the kiosk's EntryPolicy, its extra packs and last-good behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import parse_config
from kiosk.decision.policy_adapter import PackPolicy
from kiosk.ports import PolicyDecision
from policy.errors import CaseError, NoPackInForce
from policy.shipped import shipped_pack_texts
from tests.policy.conftest import make_case

SHIPPED_240 = shipped_pack_texts()["cn-hunan-transit-240h.toml"].decode()


def newer_240(version: str = "1.1", hours: int = 144, basis: str = "transit_144h") -> str:
    """The shipped 240-hour pack re-issued with another stay (a law change by data)."""
    return (
        SHIPPED_240.replace('version = "1.0"', f'version = "{version}"')
        .replace("effective_from = 2024-12-17", "effective_from = 2026-02-01")
        .replace('basis = "transit_240h"', f'basis = "{basis}"')
        .replace("stay_hours = 240", f"stay_hours = {hours}")
    )


def test_example_case_admits_through_the_port() -> None:
    decision = PackPolicy().evaluate(make_case())
    assert isinstance(decision, PolicyDecision)
    assert decision.decision == "admit"
    assert decision.basis == "transit_240h"
    assert decision.permitted_until == "2026-03-12T00:00:00+08:00"
    assert (decision.pack_id, decision.pack_version) == ("cn-hunan-transit-240h", "1.0")
    assert decision.trace and decision.raw["decision"] == "admit"


def test_malformed_case_refers_with_case_invalid() -> None:
    decision = PackPolicy().evaluate(make_case(now="2026-03-01T10:30:00"))
    assert decision.decision == "refer"
    assert decision.reasons == ("case_invalid",)
    assert "UTC offset" in decision.trace[0]
    assert decision.raw["traveller_messages"]["en"]
    with pytest.raises(CaseError):
        PackPolicy().decide(make_case(now="2026-03-01T10:30:00"))


def test_no_pack_in_force_refers() -> None:
    decision = PackPolicy().evaluate(make_case(now="2015-12-31T10:00:00+08:00"))
    assert (decision.decision, decision.reasons) == ("refer", ("no_policy_in_force",))
    decision = PackPolicy().evaluate(make_case(port="PEK"))
    assert decision.reasons == ("no_policy_in_force",)
    with pytest.raises(NoPackInForce):
        PackPolicy().decide(make_case(port="PEK"))


def test_config_max_reference_age_tightens_the_pack_limit() -> None:
    config = parse_config({"policy": {"reference_max_age_h": 6.0}})
    policy = PackPolicy.from_config(config)
    case = make_case({"reference_data.age_hours": 7.0})
    assert policy.evaluate(case).reasons == ("reference_data_stale",)
    assert PackPolicy().evaluate(case).decision == "admit"  # pack allows 24 h


def test_pack_dir_adds_a_newer_pack(tmp_path: Path) -> None:
    (tmp_path / "update.toml").write_text(newer_240())
    policy = PackPolicy(tmp_path)
    assert policy.problems == ()
    decision = policy.evaluate(make_case())
    assert (decision.pack_id, decision.pack_version) == ("cn-hunan-transit-240h", "1.1")
    assert decision.basis == "transit_144h"
    assert decision.permitted_until == "2026-03-08T00:00:00+08:00"
    # Before the new pack's start date, the shipped 1.0 still decides.
    early = policy.evaluate(
        make_case(
            now="2026-01-10T10:00:00+08:00",
            **{"journey.onward.departure_time": "2026-01-12T10:00:00+08:00"},
        )
    )
    assert early.pack_version == "1.0"


def test_invalid_update_keeps_the_last_good_pack(tmp_path: Path) -> None:
    target = tmp_path / "update.toml"
    target.write_text(newer_240())
    policy = PackPolicy(tmp_path)
    assert policy.evaluate(make_case()).pack_version == "1.1"

    target.write_text(newer_240(version="1.2").replace("stay_hours = 144", "stay_hours = 145"))
    results = policy.reload()
    assert [r.accepted for r in results] == [False]
    assert "does not match basis" in results[0].message
    assert "keeping the last good pack cn-hunan-transit-240h 1.1" in results[0].message
    assert policy.problems and "update.toml" in policy.problems[0]
    assert policy.evaluate(make_case()).pack_version == "1.1"

    target.write_text(newer_240(version="1.2"))
    assert [r.accepted for r in policy.reload()] == [True]
    assert policy.problems == ()
    assert policy.evaluate(make_case()).pack_version == "1.2"


def test_invalid_first_pack_is_rejected_and_shipped_rules_stay(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("schema = 1\n[pack\n")
    policy = PackPolicy(tmp_path)
    assert len(policy.problems) == 1
    assert "not valid TOML" in policy.problems[0]
    assert policy.evaluate(make_case()).pack_version == "1.0"


def test_same_version_with_other_content_is_rejected() -> None:
    policy = PackPolicy()
    forged = SHIPPED_240.replace("minimum_age_years = 7", "minimum_age_years = 0")
    result = policy.install(forged, "border:cn-hunan-transit-240h")
    assert not result.accepted
    assert "publish it under a new version" in result.message
    case = make_case({"document.birth_date": "2024-01-01"})
    assert policy.evaluate(case).reasons == ("under_minimum_age",)


def test_removed_pack_file_is_dropped(tmp_path: Path) -> None:
    target = tmp_path / "update.toml"
    target.write_text(newer_240())
    policy = PackPolicy(tmp_path)
    target.unlink()
    assert policy.reload() == []
    assert policy.evaluate(make_case()).pack_version == "1.0"


def test_missing_pack_dir_is_reported_not_fatal(tmp_path: Path) -> None:
    policy = PackPolicy(tmp_path / "absent")
    assert policy.problems and "not a directory" in policy.problems[0]
    assert policy.evaluate(make_case()).decision == "admit"


def test_install_from_border_database_text() -> None:
    policy = PackPolicy()
    result = policy.install(newer_240().encode(), "border:cn-hunan-transit-240h")
    assert result.accepted and result.pack is not None
    assert result.pack.sha256 in {p.sha256 for p in policy.packs}
    assert policy.evaluate(make_case()).pack_version == "1.1"


def test_installing_while_evaluating_is_safe() -> None:
    import threading

    policy = PackPolicy()
    errors: list[BaseException] = []
    stop = threading.Event()

    def installer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            policy.install(newer_240(version=f"2.{i}"), f"border:{i % 7}")

    thread = threading.Thread(target=installer)
    thread.start()
    try:
        for _ in range(300):
            try:
                assert policy.evaluate(make_case()).decision == "admit"
            except BaseException as exc:  # collected, reported below
                errors.append(exc)
    finally:
        stop.set()
        thread.join()
    assert errors == []
