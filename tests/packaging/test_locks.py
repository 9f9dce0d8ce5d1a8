"""The two hash-pinned locks stay in step with their inputs and with pyproject (issue 24)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REQ = Path(__file__).resolve().parents[2] / "requirements"
PYPROJECT = REQ.parent / "pyproject.toml"


def canonical(requirement: str) -> str:
    """The distribution name of a requirement line, normalised as pip compares names."""
    name = re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def inputs(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {canonical(line) for line in lines if line and not line.startswith("-")}


def pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a pip-compile --generate-hashes output."""
    out: dict[str, tuple[str, frozenset[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text()):
        head = block.split("\n", 1)[0]
        if "==" not in head:
            continue
        name, version = head.split("==", 1)
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block))
        out[canonical(name)] = (version.split()[0], hashes)
    return out


@pytest.mark.parametrize(("source", "lock"), [("runtime.in", "runtime.txt"), ("dev.in", "dev.txt")])
def test_every_input_is_pinned_with_hashes_and_no_index_is_recorded(source: str, lock: str) -> None:
    locked = pins(REQ / lock)
    assert inputs(REQ / source) <= set(locked)
    assert all(hashes for _, hashes in locked.values())
    text = (REQ / lock).read_text()
    for option in ("--index-url", "--extra-index-url", "--find-links", "://"):
        assert option not in text.replace("--no-emit-index-url", "").replace(
            "--no-emit-find-links", ""
        )


def test_a_package_in_both_locks_has_one_pin() -> None:
    runtime, dev = pins(REQ / "runtime.txt"), pins(REQ / "dev.txt")
    shared = set(runtime) & set(dev)
    assert shared  # dev.in is constrained by runtime.txt, so overlaps exist and must agree
    assert {name: dev[name] for name in shared} == {name: runtime[name] for name in shared}


def test_the_runtime_lock_holds_no_development_tool() -> None:
    runtime = set(pins(REQ / "runtime.txt"))
    for tool in ("pytest", "pytest-qt", "pytest-timeout", "hypothesis", "ruff", "mypy",
                 "import-linter", "face-recognition", "click"):  # fmt: skip
        assert tool not in runtime, tool


def test_pyproject_names_what_the_inputs_name() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert {canonical(d) for d in project["dependencies"]} == inputs(REQ / "runtime.in")
    assert {canonical(d) for d in project["optional-dependencies"]["dev"]} == inputs(
        REQ / "dev.in"
    )
