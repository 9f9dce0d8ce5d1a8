"""Issue 19 item 5: a scenario runs sandboxed (its own temporary storage and
simulated devices, the shipped packs) and its YAML is loaded safely."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.simulation.scenario import KioskPool, ScenarioError, load_scenario

GOOD = "name: x\ntraveller: {sample: chn-citizen}\n"


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ("{storage: {local_url: 'sqlite:////var/lib/egate/local.sqlite'}}", "config.storage"),
        ("{storage: {border_url: 'postgresql+psycopg://egate@border/egate'}}", "config.storage"),
        ("{storage: {log_key_file: /var/lib/egate/log-seal.key}}", "config.storage"),
        ("{devices: {gate: real, gate_port: /dev/ttyS0}}", "config.devices"),
        ("{policy: {pack_dir: /etc/egate/packs}}", "config.policy.pack_dir"),
    ],
)
def test_storage_devices_and_pack_paths_are_refused(tmp_path: Path, config: str, key: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD + f"config: {config}\n")
    with pytest.raises(ScenarioError, match=f"{key.replace('.', '[.]')} is not allowed"):
        load_scenario(path)


def test_a_scenario_always_gets_its_own_temporary_databases(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD + "config: {timeouts: {face_s: 4}}\n")
    scenario = load_scenario(path)
    scenario.config["storage"] = {"local_url": "sqlite:////tmp/real-kiosk.sqlite"}  # built in code
    seen: list[Any] = []

    def factory(config: Any) -> Any:
        seen.append(config.storage)
        raise RuntimeError("stop here")

    with pytest.raises(ScenarioError, match=r"config\.storage is not allowed"):
        KioskPool(tmp_path / "pool", factory).get(scenario)
    del scenario.config["storage"]
    with pytest.raises(RuntimeError, match="stop here"):
        KioskPool(tmp_path / "pool", factory).get(scenario)
    assert seen[0].local_url.startswith(f"sqlite:///{tmp_path}/pool/")
    assert seen[0].border_url.startswith(f"sqlite:///{tmp_path}/pool/")


def test_border_offline_is_the_sandbox_unreachable_border(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD + "border: offline\n")
    seen: list[Any] = []

    def factory(config: Any) -> Any:
        seen.append(config.storage)
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError):
        KioskPool(tmp_path, factory).get(load_scenario(path))
    assert "127.0.0.1:9" in seen[0].border_url


def laughs(levels: int, width: int = 9) -> str:
    """The 'billion laughs' shape: each anchor repeats the one before `width` times."""
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines)


def test_aliases_are_refused_before_anything_expands(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    # 9 levels: 387 bytes, 387 million strings once expanded (the attack's size).
    body = "description:\n" + "\n".join("  " + line for line in laughs(9).splitlines())
    path.write_text(GOOD + body + "\n")
    assert path.stat().st_size < 600
    started = time.monotonic()
    with pytest.raises(ScenarioError, match="anchors and aliases"):
        load_scenario(path)
    assert time.monotonic() - started < 5.0


def test_an_anchor_without_alias_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(GOOD + "description: &d hello\n")
    with pytest.raises(ScenarioError, match="anchors and aliases"):
        load_scenario(path)


def test_depth_and_size_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(GOOD + "description: " + "[" * 50 + "]" * 50 + "\n")
    with pytest.raises(ScenarioError, match="nested deeper than"):
        load_scenario(path)
    path.write_text(GOOD + "description: '" + "x" * 300_000 + "'\n")
    with pytest.raises(ScenarioError, match="at most"):
        load_scenario(path)
    path.write_text(GOOD + "description: [" + ", ".join(["1"] * 30_000) + "]\n")
    with pytest.raises(ScenarioError, match="YAML nodes"):
        load_scenario(path)
