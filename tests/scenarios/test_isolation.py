"""Many scenario files in one run are isolated from each other (issue 22 item 5): a set
played in both orders, by two `egate scenario run` processes at the same time, gives
the same verdicts, and every one is the verdict its file expects.

The set is chosen to break what was shared: two files whose travellers have the same
`key:` (one passport valid, one expired: the simulated kiosk cached passports by key,
so the second file ran the first one's passport) on different pinned clocks (the
simulated certificates and passports are dated from the clock), and a traveller with
the same passport number on the same day who has no advance passenger information (the
stand-in border database kept what the earlier scenario's airline filed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPO = HERE.parents[1]
SET = [HERE / "isolation" / "same-key-valid.yaml", HERE / "isolation" / "same-key-expired.yaml",
       HERE / "isolation" / "same-passport-boarding-pass.yaml",
       HERE / "transit-240h-arrive-after-midnight.yaml"]
RUN = "import sys; from ui.cli import main; sys.exit(main())"


def _start(files: list[Path]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", RUN, "scenario", "run", "--ui", "none", "--json",
         *map(str, files)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _verdicts(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=600)
    assert out.strip(), err[-3000:]  # no JSON: show why
    results = json.loads(out)["scenarios"]
    return {r["name"]: (r["passed"], r["outcome"], sorted(r["reasons"]), r["failure"])
            for r in results}


def test_a_set_gives_the_same_verdicts_in_either_order_and_in_parallel() -> None:
    forward, backward = _start(SET), _start(SET[::-1])  # both at once
    ahead, behind = _verdicts(forward), _verdicts(backward)
    assert ahead == behind
    assert ahead == {
        "same-key-valid": (True, "admitted", [], None),
        "same-key-expired": (True, "referred", ahead["same-key-expired"][2], None),
        "same-passport-boarding-pass": (True, "admitted", [], None),
        "transit-240h-arrive-after-midnight": (True, "admitted", [], None),
    }
    assert "document_expired" in ahead["same-key-expired"][2]
