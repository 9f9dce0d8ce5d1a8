"""Hostile inputs for every `egate` command: files, configs, databases, argument values,
and the enumeration of the parser's subcommands (new commands are covered as they
register)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk.cli.main import build_parser
from ui.cli import QT_COMMAND_MODULES

# Documented exit statuses (docs/cli.md); 4 is passport read's access_denied.
EXIT_STATUSES = {0, 1, 2, 3, 4, 64, 65, 66, 69, 70, 73, 74, 75, 77, 78, 130}

UNREACHABLE_PG = "postgresql+psycopg://nobody@127.0.0.1:1/x"  # connection refused at once


def parser() -> argparse.ArgumentParser:
    return build_parser(QT_COMMAND_MODULES)


Commands = dict[tuple[str, ...], argparse.ArgumentParser]


def leaf_commands(root: argparse.ArgumentParser | None = None) -> Commands:
    """Every runnable command path (("policy", "evaluate"), ...) and its parser."""
    out: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(p: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out[path] = p
            return
        for action in subs:
            for name, child in action.choices.items():
                walk(child, (*path, name))

    walk(root or parser(), ())
    return out


@dataclass(frozen=True)
class Hostile:
    """A directory of hostile files and the configs that point at them."""

    root: Path
    values: tuple[str, ...]  # argument values (paths, numbers, URLs, dates ...)
    configs: dict[str, Path]  # name -> config file
    fail_early: tuple[str, ...]  # configs that stop a command before any real work


def _write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def make_hostile(root: Path) -> Hostile:
    root.mkdir(parents=True, exist_ok=True)
    deep_json = root / "deep.json"
    deep_json.write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    (root / "deep-list.json").write_text("[" * 100_000 + "]" * 100_000)
    huge_int = root / "huge-int.json"
    huge_int.write_text('{"reference_data": {"age_hours": ' + "9" * 5000 + "}}")
    example = Path(__file__).parents[2] / "docs/examples/policy/entry-citizen-admit.json"
    case = json.loads(example.read_text())
    age400 = root / "age-1e400.json"
    age400.write_text(
        json.dumps({**case, "reference_data": {"age_hours": 0}}).replace(
            '"age_hours": 0', '"age_hours": 1' + "0" * 400
        )
    )
    garbage = root / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 40)
    empty = root / "empty"
    empty.write_bytes(b"")
    raw_name = os.fsdecode(os.fsencode(str(root)) + b"/\xff\xfe-name.json")
    Path(raw_name).write_text(json.dumps(case))
    folder = root / "folder"
    folder.mkdir(exist_ok=True)
    (folder / "not-a-cert.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n")
    deep_toml = root / "deep.toml"
    deep_toml.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")

    # Databases: corrupt SQLite, a text file, a read-only database, a path under a file.
    corrupt = root / "corrupt.sqlite"
    corrupt.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    text_db = root / "text.sqlite"
    text_db.write_text("this is not a database\n")
    good = root / "good"
    good.mkdir(exist_ok=True)
    ro_db = root / "ro.sqlite"
    from kiosk.store.database import open_local

    open_local(f"sqlite:///{ro_db}").dispose()

    def storage(local: str, border: str = "") -> str:
        extra = f'border_url = "{border}"\n' if border else ""
        return f'[storage]\nlocal_url = "{local}"\n{extra}'

    good_storage = storage(f"sqlite:///{good}/local.sqlite")
    configs = {
        "good": _write_config(root / "good.toml", good_storage),
        "pg-unreachable": _write_config(
            root / "pg.toml", storage(f"sqlite:///{good}/local.sqlite", UNREACHABLE_PG)
        ),
        "read-only-db": _write_config(
            root / "ro.toml", storage(f"sqlite:///file:{ro_db}?mode=ro&uri=true")
        ),
        "deep-toml": deep_toml,
        "huge-lane": _write_config(root / "lane.toml", "[kiosk]\nlane = 99999999999999999999\n"),
        "int32-lane": _write_config(root / "lane32.toml", "[kiosk]\nlane = 3000000000\n"),
        "retention-1e308": _write_config(
            root / "ret.toml", good_storage + "[privacy]\nreferral_image_retention_h = 1e308\n"
        ),
        "sync-1e10": _write_config(root / "sync.toml", good_storage + "sync_interval_s = 1e10\n"),
        "corrupt-db": _write_config(root / "corrupt.toml", storage(f"sqlite:///{corrupt}")),
        "text-db": _write_config(root / "text.toml", storage(f"sqlite:///{text_db}")),
        "under-file": _write_config(root / "under.toml", storage(f"sqlite:///{garbage}/x.sqlite")),
        "foo-url": _write_config(root / "foo.toml", storage("foo://")),
        "mysql-url": _write_config(root / "mysql.toml", storage("mysql://u@localhost/db")),
        "binary-toml": garbage,
        "missing": root / "no-such.toml",
    }
    fail_early = (
        "deep-toml", "huge-lane", "int32-lane", "retention-1e308", "sync-1e10", "corrupt-db",
        "text-db", "under-file", "foo-url", "mysql-url", "binary-toml", "missing",
    )  # fmt: skip
    values = (
        "", "-", "0", "-1", "1", "99999999999999999999", "9" * 5000, "1e308", "nan", "-inf",
        "0001-01-01", "9999-12-31", "2026-02-30", "2026-03-01T10:30:00+08:00",
        "foo://", "mysql://u@h/db", UNREACHABLE_PG, f"sqlite:///{garbage}/x.sqlite",
        f"sqlite:///{corrupt}", "127.0.0.1:1", "host:99999999", "A" * 300, "P<UTO" + "<" * 39,
        str(deep_json), str(root / "deep-list.json"), str(huge_int), str(age400),
        str(garbage), str(empty), raw_name, str(folder), "/dev/null", str(root / "missing"),
        str(garbage / "below"), str(deep_toml), os.fsdecode(b"\xff\xfe"),
    )  # fmt: skip
    return Hostile(root, values, configs, fail_early)


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _captured(cwd: Path) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    old_in = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(b'{"a": [1, 2'))
    try:
        with (
            contextlib.chdir(cwd),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            yield out, err
    finally:
        sys.stdin = old_in


class RanTooLong(BaseException):
    """Not an Exception: the error boundary must not turn it into a message."""


@contextlib.contextmanager
def _time_limit(seconds: float, argv: list[str]) -> Iterator[None]:
    def expired(_signum: int, _frame: object) -> None:
        raise RanTooLong(
            f"{argv} ran over {seconds:g} s on hostile input: bound its inputs, or add it"
            " to HEAVY/FORCED in tests/cli/test_hostile_inputs.py if it serves until stopped"
        )

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_in_process(argv: list[str], cwd: Path, limit_s: float = 30.0) -> Outcome:
    """Run `egate ARGV` in this process; a command still running after `limit_s`
    (a new command that serves until stopped, say) fails the test instead of
    hanging it."""
    from ui.cli import main

    with _captured(cwd) as (out, err), _time_limit(limit_s, argv):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Outcome(status, out.getvalue(), err.getvalue())


def check(argv: list[str], outcome: Outcome) -> None:
    """The contract: no traceback, a documented status, JSON errors with --json,
    and no failure the boundary had to call an internal error."""
    shown = outcome.stdout + outcome.stderr
    assert "Traceback" not in shown, (argv, shown[-3000:])
    assert outcome.status in EXIT_STATUSES, (argv, outcome.status, shown[-2000:])
    assert "internal_error" not in shown, (argv, shown[-2000:])
    if "--json" in argv and outcome.status not in (0,) and outcome.stdout.strip():
        json.loads(outcome.stdout)  # one JSON document, an error object or a result
    if "--json" in argv and outcome.status != 0 and not outcome.stdout.strip():
        raise AssertionError((argv, "no JSON error on stdout", outcome.stderr[-1000:]))
