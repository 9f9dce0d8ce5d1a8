"""No traceback ever reaches the user: every registered command, driven with hostile
arguments, configs and databases, ends with a clear message and a documented status."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kiosk.cli.main import COMMAND_MODULES
from tests.cli.hostile import (
    Hostile,
    check,
    leaf_commands,
    make_hostile,
    run_in_process,
)
from ui.cli import QT_COMMAND_MODULES

REPO = Path(__file__).resolve().parents[2]
COMMANDS = leaf_commands()
# Long-running when their inputs are good: run only with a config that stops them
# before any real work (the good-input paths have their own tests).
HEAVY = {
    ("demo",), ("simulate", "lane"), ("chip", "serve"), ("face", "calibrate"),
    ("kiosk",), ("kiosk", "run"), ("supervisor",), ("doctor",), ("screenshots",),
    ("scenario", "run"),
}
# Options forced (given last, so they win): a sync loop and the demo run until
# stopped; `chip serve` must never reach a vpcd another test runs; passports made
# go to a directory no other argument names, so no hostile directory becomes valid.
FORCED = {
    ("sync",): ["--once"],
    ("demo",): ["--quit-after", "0.01"],
    ("kiosk",): ["--quit-after", "0.01"],
    ("kiosk", "run"): ["--quit-after", "0.01"],
    ("supervisor",): ["--quit-after", "0.01"],
    ("screenshots",): ["--screen", "welcome", "--lang", "en", "--size", "640x480", "--no-camera",
                       "--out", "{root}/shots"],
    ("chip", "serve"): ["--vpcd", "127.0.0.1:1", "--once"],
    ("passport", "make"): ["--out", "{root}/made"],
}
# Flags never drawn: `supervisor --demo` starts a fleet of simulated lanes with their face
# worker processes and, with --screenshots, a screen tour - minutes of work on its own
# data, not input handling, inside this test's process (where a 30 s bound cut it off
# mid-shutdown). Its own tests run it whole (tests/supervisor/test_demo_hour.py);
# --screenshots without --demo is still drawn and refused.
NEVER = {("supervisor",): {"--demo"}}
SKIP_ACTIONS = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    old = os.environ.get("PCSCLITE_CSOCK_NAME")
    # No reader service: `passport read` must fail cleanly, and never touch a
    # pcscd another test may be running.
    os.environ["PCSCLITE_CSOCK_NAME"] = str(tmp_path_factory.getbasetemp() / "no-pcscd")
    yield make_hostile(tmp_path_factory.mktemp("hostile"))
    if old is None:
        os.environ.pop("PCSCLITE_CSOCK_NAME", None)
    else:
        os.environ["PCSCLITE_CSOCK_NAME"] = old


def test_every_registered_command_is_enumerated() -> None:
    groups = {path[0] for path in COMMANDS}
    assert len(COMMAND_MODULES) + len(QT_COMMAND_MODULES) <= len(groups) + 1
    for expected in [
        ("config", "check"),
        ("policy", "evaluate"),
        ("sync",),
        ("demo",),
        ("simulate", "lane"),
        ("trust", "import"),
        ("passport", "make"),
    ]:
        assert expected in COMMANDS
    assert all(p.get_default("func") is not None for p in COMMANDS.values())


def _value(hostile: Hostile, action: argparse.Action) -> st.SearchStrategy[str]:
    pool = st.sampled_from(hostile.values)
    if action.choices:
        return st.one_of(st.sampled_from([str(c) for c in action.choices]), pool)
    return pool


@st.composite
def invocation(draw: st.DrawFn, hostile: Hostile) -> list[str]:
    path = draw(st.sampled_from(sorted(COMMANDS)))
    sub = COMMANDS[path]
    configs = hostile.fail_early if path in HEAVY else tuple(hostile.configs)
    config = hostile.configs[draw(st.sampled_from(configs))]
    argv = ["--config", str(config), *path]
    positionals: list[str] = []
    for action in sub._actions:
        if isinstance(action, SKIP_ACTIONS) or "--config" in action.option_strings:
            continue
        if not action.option_strings:  # positional
            count = {
                None: 1,
                "?": draw(st.integers(0, 1)),
                "*": draw(st.integers(0, 2)),
                "+": draw(st.integers(1, 2)),
            }.get(action.nargs, 1)  # type: ignore[arg-type]
            positionals += [draw(_value(hostile, action)) for _ in range(int(count))]
            continue
        flag = action.option_strings[-1]
        if flag in NEVER.get(path, set()):
            continue
        if action.nargs == 0:  # store_true / store_const / count
            if draw(st.booleans()) or (flag == "--json" and draw(st.booleans())):
                argv.append(flag)
            continue
        if action.required or draw(st.integers(0, 2)) == 0:
            argv += [flag, draw(_value(hostile, action))]
    argv += [a.format(root=hostile.root) for a in FORCED.get(path, [])]
    if positionals:
        argv += ["--", *positionals] if draw(st.booleans()) else positionals
    return argv


@settings(
    max_examples=400,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_command_ever_shows_a_traceback(hostile: Hostile, data: st.DataObject) -> None:
    argv = data.draw(invocation(hostile))
    outcome = run_in_process(argv, hostile.root)
    check(argv, outcome)
    event(f"exit {outcome.status}")  # --hypothesis-show-statistics: what was reached
    code = re.search(r'"code": "([a-z_]+)"|egate: ([a-z_]+):', outcome.stdout + outcome.stderr)
    if code:
        event(f"code {code.group(1) or code.group(2)}")


# The reproductions, each named: status and error code as documented.
REPRODUCTIONS = [
    ("deep-toml", ["config", "check", "--json"], 78, "invalid_config"),
    ("huge-lane", ["config", "check", "--json"], 78, "invalid_config"),
    ("int32-lane", ["config", "check", "--json"], 78, "invalid_config"),
    ("retention-1e308", ["config", "check", "--json"], 78, "invalid_config"),
    ("sync-1e10", ["config", "check", "--json"], 78, "invalid_config"),
    ("foo-url", ["trust", "list", "--json"], 78, "invalid_config"),
    ("mysql-url", ["trust", "list", "--json"], 78, "invalid_config"),
    ("under-file", ["trust", "list", "--json"], 74, "storage_error"),
    ("corrupt-db", ["trust", "list", "--json"], 74, "storage_error"),
    ("text-db", ["simulate", "lane", "--travellers", "1", "--json"], 74, "storage_error"),
    ("good", ["policy", "evaluate", "{root}/deep.json", "--json"], 65, "invalid_case"),
    ("good", ["policy", "evaluate", "{root}/huge-int.json", "--json"], 65, "invalid_case"),
    ("good", ["policy", "evaluate", "{root}/age-1e400.json", "--json"], 65, "invalid_case"),
    ("good", ["sync", "--once", "--batch-size", "99999999999999999999", "--json"], 2,
     "invalid_arguments"),
    ("good", ["passport", "make", "--out", "{root}/pp", "--expiry-date", "0001-01-01",
              "--json"], 2, "invalid_date"),
    ("good", ["passport", "verify", "--dir", "{root}/passport", "--trust", "/dev/null",
              "--json"], 66, "unreadable_file"),
    # Numbers that would run for ever or overflow a timer are refused up front.
    ("good", ["simulate", "lane", "--travellers", "99999999999999999999", "--json"], 2,
     "bad_argument"),
    ("good", ["demo", "--quit-after", "1e308"], 2, "bad_argument"),
]  # fmt: skip


@pytest.mark.parametrize(("config", "args", "status", "code"), REPRODUCTIONS)
def test_reproductions_end_in_a_json_error(
    hostile: Hostile, config: str, args: list[str], status: int, code: str
) -> None:
    import json

    if "{root}/passport" in args and not (hostile.root / "passport").exists():
        made = run_in_process(["passport", "make", "--out", str(hostile.root / "passport")],
                              hostile.root)  # fmt: skip
        assert made.status == 0, made
    argv = ["--config", str(hostile.configs[config]),
            *[a.format(root=hostile.root) for a in args]]  # fmt: skip
    outcome = run_in_process(argv, hostile.root)
    check(argv, outcome)
    assert outcome.status == status, outcome
    if "--json" in args:
        assert json.loads(outcome.stdout)["error"]["code"] == code
    else:
        assert outcome.stderr.startswith(f"egate: {code}: "), outcome
    if config == "under-file":
        assert "garbage.bin" in outcome.stdout


def test_non_utf8_file_name_is_valid_json(hostile: Hostile) -> None:
    import json

    name = next(v for v in hostile.values if "-name.json" in v)
    argv = ["--config", str(hostile.configs["good"]), "trust", "import", name, "--json"]
    outcome = run_in_process(argv, hostile.root)
    check(argv, outcome)
    assert outcome.status == 65
    message = json.loads(outcome.stdout)["error"]["message"]
    assert "-name.json" in message


SUBPROCESS_SAMPLE = [
    ("deep-toml", ["config", "check"]),
    ("corrupt-db", ["trust", "list"]),
    ("good", ["trust", "import", "{raw_name}", "--json"]),
    ("good", ["nosuch-command", "--json"]),
]


@pytest.mark.parametrize(("config", "args"), SUBPROCESS_SAMPLE)
def test_console_script_sample(hostile: Hostile, config: str, args: list[str]) -> None:
    """The real console script: the process-wide hooks and real stdout encoding."""
    raw_name = next(v for v in hostile.values if "-name.json" in v)
    argv = ["--config", str(hostile.configs[config]),
            *[a.format(raw_name=raw_name) for a in args]]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("EGATE_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from ui.cli import main; sys.exit(main())", *argv],
        capture_output=True, cwd=hostile.root, env=env, timeout=120,
    )  # fmt: skip
    from tests.cli.hostile import Outcome

    out = Outcome(done.returncode, done.stdout.decode("utf-8", "replace"),
                  done.stderr.decode("utf-8", "replace"))  # fmt: skip
    check(argv, out)
    assert done.returncode != 0
    if "--json" not in args:
        assert out.stderr.startswith("egate: ") and out.stderr.count("\n") == 1, out.stderr


def test_a_command_registered_later_is_enumerated_and_guarded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from kiosk.cli.main import build_parser, main

    late = leaf_commands(build_parser([*QT_COMMAND_MODULES, "tests.cli.late_command"]))
    assert ("late", "crash") in late and set(COMMANDS) < set(late)
    with pytest.raises(SystemExit) as done:
        main(["late", "crash", "--json"], extra_modules=["tests.cli.late_command"])
    out, err = capsys.readouterr()
    assert done.value.code == 70 and "Traceback" not in out + err
    assert json.loads(out)["error"]["code"] == "internal_error"  # which the sweep refuses
