"""Progress of long commands (`egate screenshots`, `egate scenario run`, `egate simulate
lane`, so `./dev demo` without a display) on stderr, never on stdout.

stdout carries the result only (the human summary, or the JSON with --json), so a
script reading it is never confused by progress. On a terminal the progress is a rich
bar (rich is already a runtime dependency, as for `egate face calibrate`); elsewhere -
a CI log, a pipe - one plain line per step, each starting with the command's name, so
a log stays readable and a test can tell these lines from anybody else's noise.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """`with Progress("egate screenshots", total) as p: p.advance("en welcome")`."""

    def __init__(
        self, command: str, total: int, stream: TextIO | None = None, *, lines: bool = True
    ) -> None:
        self.command = command
        # Off a terminal: a line per step, unless stdout already says as much (lines=False).
        self._lines = lines
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._start = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        if self._stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bars

            self._bar = Bars(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(file=self._stream), transient=True,
            )

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.command, total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._start

    def note(self, text: str) -> None:
        """A phase without a count (start-up), as a line above the bar."""
        self._line(text)

    def advance(self, what: str) -> None:
        """One more step done; `what` names it."""
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done,
                             description=f"{self.command}: {what}")
            return
        if self._lines:
            self._line(f"{self.done}/{self.total} {what}")

    def _line(self, text: str) -> None:
        line = f"{self.command} [{self.elapsed_s:.0f} s] {text}"
        if self._bar is not None:
            self._bar.console.print(line, highlight=False, markup=False)
        else:
            print(line, file=self._stream, flush=True)
