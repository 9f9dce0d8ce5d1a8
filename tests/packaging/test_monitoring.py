"""The shipped Prometheus alert rules and Grafana dashboard (packaging/monitoring).

promtool is not installed here: the rule file's structure is checked against the
Prometheus rule-file format, and every metric and label an expression names must
be one the kiosk or the station exposes (a typo would make an alert that never fires).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Connection

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.clock import FakeClock
from kiosk.runtime.metrics import KioskMetrics
from kiosk.runtime.station_metrics import StationMetrics
from kiosk.supervisor.reasons import ALERTS, BORDER_ALERTS
from kiosk.supervisor.settings import StationSettings
from tests.kiosk.test_metrics import run_mix
from tests.workflow.fakes import Rig

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "packaging/monitoring/egate-alerts.yml"
DASHBOARD = ROOT / "packaging/monitoring/egate-dashboard.json"
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"instance", "job"}
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "and", "or", "unless", "rate",
    "increase", "deriv", "histogram_quantile", "le", "up", "on", "ignoring", "bool",
}  # fmt: skip


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text())
    assert set(data) == {"groups"}
    out = []
    names = [g["name"] for g in data["groups"]]
    assert len(names) == len(set(names)), "group names must be unique"
    for group in data["groups"]:
        assert set(group) <= {"name", "interval", "rules"} and group["rules"]
        out.extend(group["rules"])
    return out


def dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p["targets"]]


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Every sample name the kiosk and the station expose -> its label names."""
    tmp = tmp_path_factory.mktemp("exposed")
    rig = Rig(tmp)
    kiosk = KioskMetrics(
        rig.lane.config, rig.log.engine, rig.clock,
        age_h=lambda _now: 1.0, sync_ok=lambda: True, faults=lambda: {"gate": None},
    )  # fmt: skip
    rig.lane.add_observer(kiosk)
    run_mix(rig, admits=1)
    kiosk.officer_commands.labels("admit", "executed")  # no officer acted in the mix
    border = create_border_engine(f"sqlite:///{tmp}/border.sqlite")
    migrate_border(border)

    def identity(_c: Connection) -> tuple[str, bool]:
        return ("db1:5432", False)

    station = StationMetrics(border, FakeClock(), StationSettings(), identity)
    out: dict[str, set[str]] = {}
    for family in [*kiosk.collect(), *station.collect()]:
        suffixes = {
            "counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
        }.get(family.type, ("",))  # fmt: skip
        for suffix in suffixes:
            out.setdefault(family.name + suffix, set()).update(TARGET_LABELS)
        for s in family.samples:
            out.setdefault(s.name, set()).update(s.labels)
    # Families whose labelled series appear only with data the empty border lacks.
    for name, labels in {
        "egate_station_open_referrals": {"port"},
        "egate_station_kiosk_online": {"kiosk_id", "port"},
        "egate_station_kiosk_pending_events": {"kiosk_id", "port"},
        "egate_station_kiosks": {"port", "state"},
        "egate_station_chain_stopped": {"kiosk_id"},
        "egate_station_kiosk_held": {"kiosk_id"},
        "egate_station_kiosk_alerts": {"kiosk_id", "alert"},
    }.items():
        assert name in out, name
        out[name] |= labels
    return out


def selectors(expr: str) -> Iterator[tuple[str, set[str]]]:
    """(metric name, label names it filters or groups by) of each egate_ metric."""
    for m in re.finditer(r"\b(egate_[a-z_]+)(\{([^}]*)\})?", expr):
        labels = set(re.findall(r"([a-z_]+)\s*(?:=~|!~|!=|=)", m.group(3) or ""))
        yield m.group(1), labels
    for grouping in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        yield "", {g.strip() for g in grouping.split(",") if g.strip()}


def test_alert_rules_follow_the_prometheus_rule_format() -> None:
    seen = set()
    for rule in rules():
        assert set(rule) <= RULE_KEYS, rule.get("alert")
        name = rule["alert"]
        assert re.fullmatch(r"Egate[A-Z][A-Za-z]+", name) and name not in seen
        seen.add(name)
        expr = rule["expr"]
        assert isinstance(expr, str) and expr.strip()
        for pair in ("()", "[]", "{}"):
            assert expr.count(pair[0]) == expr.count(pair[1]), (name, pair)
        assert expr.count('"') % 2 == 0, name
        assert DURATION.match(rule.get("for", "0m")), name
        for window in re.findall(r"\[([^\]]+)\]", expr):
            assert DURATION.match(window), (name, window)
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert {"summary", "description"} <= set(rule["annotations"])
        for text in rule["annotations"].values():
            assert text.count("{{") == text.count("}}")
            for var in re.findall(r"\{\{\s*\$(\w+)", text):
                assert var in {"labels", "value"}, (name, var)


def test_the_issue_s_alerts_are_all_there() -> None:
    by_name = {r["alert"]: r["expr"] for r in rules()}
    assert "egate_station_kiosk_online" in by_name["EgateKioskOffline"]
    assert 'up{job="egate-kiosk"}' in by_name["EgateKioskOffline"]
    assert "deriv(egate_sync_backlog_events" in by_name["EgateSyncBacklogGrowing"]
    assert "egate_reference_data_age_seconds" in by_name["EgateReferenceDataStale"]
    assert "egate_station_chain_stopped" in by_name["EgateChainBreak"]
    assert "egate_border_failovers_total" in by_name["EgateBorderFailover"]


def test_every_alarm_level_log_alert_breaks_the_chain_alert() -> None:
    [expr] = [r["expr"] for r in rules() if r["alert"] == "EgateChainBreak"]
    codes = set(re.search(r'alert=~"([^"]+)"', expr).group(1).split("|"))  # type: ignore[union-attr]
    alarms = {c for c in BORDER_ALERTS.values() if ALERTS.get(c) == "alarm"}
    assert alarms <= codes
    assert codes <= set(ALERTS)  # no code the station never raises


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_every_metric_and_label_named_is_exposed(
    source: str, exposed: dict[str, set[str]]
) -> None:
    exprs = [r["expr"] for r in rules()] if source == "rules" else dashboard_exprs()
    all_labels = set().union(*exposed.values())
    for expr in exprs:
        for name, labels in selectors(expr):
            if name:
                assert name in exposed, (name, expr)
                assert labels <= exposed[name], (name, labels - exposed[name])
            else:
                assert labels <= all_labels | {"le"}, (labels, expr)


def test_dashboard_is_an_importable_grafana_dashboard() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] == "egate-port" and dash["title"] and dash["schemaVersion"] >= 36
    assert [i["name"] for i in dash["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in dash["panels"]:
        assert p["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert {"x", "y", "w", "h"} <= set(p["gridPos"]) and p["gridPos"]["x"] + p["gridPos"][
            "w"
        ] <= 24
        assert p["targets"] and all(t["expr"] for t in p["targets"])
    # The figures the issue asks a port's IT team to watch each have a panel.
    text = " ".join(dashboard_exprs())
    for metric in (
        "egate_transactions_total", "egate_stage_seconds_bucket", "egate_face_failures_total",
        "egate_chip_failures_total", "egate_sync_backlog_events", "egate_sync_lag_seconds",
        "egate_reference_data_age_seconds", "egate_device_faults_total",
        "egate_gate_cycles_total", "egate_station_open_referrals", "egate_station_kiosks",
    ):  # fmt: skip
        assert metric in text, metric


def test_no_label_can_carry_traveller_data(exposed: dict[str, set[str]]) -> None:
    allowed = TARGET_LABELS | {
        "outcome", "stage", "reason", "code", "device", "le", "kiosk_id", "port", "lane",
        "direction", "state", "alert", "server", "command", "result",
    }  # fmt: skip
    for name, labels in exposed.items():
        assert labels <= allowed, (name, labels - allowed)
