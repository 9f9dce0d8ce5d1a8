"""egate officers / referrals: secrets from the environment or stdin only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import kiosk.cli.supervisor as cli
from kiosk.cli.main import main
from kiosk.clock import FakeClock
from tests.supervisor.conftest import CHEAP, Lane


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.supervisor import secrets

    monkeypatch.setattr(secrets, "DEFAULT_PARAMS", CHEAP)
    monkeypatch.setattr(cli, "_STDIN", None)
    for env in (cli.PIN_ENV, cli.SECOND_PIN_ENV, cli.NEW_PIN_ENV):
        monkeypatch.delenv(env, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else None


def test_officers_add_list_disable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/b.sqlite"
    monkeypatch.setenv(cli.NEW_PIN_ENV, "new-secret-4321")
    status, out = run(capsys, "officers", "add", "A1", "--name", "Ada", "--url", url, "--json")
    assert status == 0 and out == [{**out[0], "officer_id": "A1", "role": "officer"}]
    monkeypatch.delenv(cli.NEW_PIN_ENV)
    monkeypatch.setattr("sys.stdin", io.StringIO("new-secret-9876\n"))
    status, _ = run(capsys, "officers", "add", "S1", "--role", "supervisor", "--url", url, "--json")
    assert status == 0
    status, listed = run(capsys, "officers", "list", "--url", url, "--json")
    assert [o["officer_id"] for o in listed] == ["A1", "S1"]
    assert all("secret_hash" not in o and "new-secret-9876" not in json.dumps(o) for o in listed)
    with pytest.raises(SystemExit):  # there is no option to pass a PIN as an argument
        main(["officers", "add", "B2", "--pin", "ada-secret-1", "--url", url])
    monkeypatch.setattr(cli, "_STDIN", None)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, err = run(capsys, "officers", "add", "B2", "--url", url, "--json")
    assert status == 2 and err["error"]["code"] == "no_pin"
    status, out = run(capsys, "officers", "disable", "S1", "--url", url, "--json")
    assert status == 0 and out[0]["disabled"] is True


def test_referrals_list_and_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/b.sqlite"
    monkeypatch.setenv(cli.NEW_PIN_ENV, "ada-secret-1")
    run(capsys, "officers", "add", "A1", "--url", url, "--json")
    monkeypatch.setenv(cli.NEW_PIN_ENV, "ben-secret-2")
    run(capsys, "officers", "add", "B2", "--url", url, "--json")
    from kiosk.border.database import create_border_engine

    engine = create_border_engine(url)
    lane = Lane(tmp_path, engine, "K1", FakeClock())
    tx = lane.traveller(watchlist=True)
    lane.cycle()
    status, listed = run(capsys, "referrals", "list", "--url", url, "--json")
    assert status == 0
    [item] = listed
    assert (item["referral_id"], item["kiosk_id"], item["lane"]) == (tx, "K1", 1)
    assert "watchlist_hit" in item["reasons"] and item["referred_at"]
    args = ["referrals", "resolve", tx, "--action", "admit", "--reason", "identity_confirmed",
            "--text", "spoke to the traveller, known case", "--officer", "A1", "--url", url,
            "--json"]  # fmt: skip
    monkeypatch.setenv(cli.PIN_ENV, "0000")
    status, err = run(capsys, *args)
    assert status == 77 and err["error"]["code"] == "invalid_credentials"
    monkeypatch.delenv(cli.PIN_ENV)
    monkeypatch.setattr(cli, "_STDIN", None)
    monkeypatch.setattr("sys.stdin", io.StringIO("ada-secret-1\nben-secret-2\n"))
    status, out = run(capsys, *args, "--second-officer", "B2")
    assert status == 0 and out["status"] == "issued"
    lane.cycle()
    assert lane.rig.gate.state == "open"
    assert lane.rig.log.events()[-1].checks["second_officer_id"] == "B2"
    status, listed = run(capsys, "referrals", "list", "--url", url, "--json")
    assert listed == []


# `officers kiosk-key --out` wrote with its own rename: onto /dev/null (the hostile-input
# test drew it) that replaced the machine's device node with a regular file. Now it goes
# through the one checked writer, and a refused path is refused before the border's key
# changes. (A symlink stands in for the device here: the old rename replaced it too.)
def test_kiosk_key_out_refuses_a_link_or_device_before_issuing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/b.sqlite"
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    link = tmp_path / "command.key"
    link.symlink_to(target)
    status, out = run(capsys, "officers", "kiosk-key", "K1", "--url", url, "--out", str(link),
                      "--json")  # fmt: skip
    assert status == 74 and out["error"]["code"] == "invalid_output"
    assert link.is_symlink() and target.read_bytes() == b"keep"
    status, out = run(capsys, "officers", "kiosk-key", "K1", "--url", url, "--out", "/dev/null",
                      "--json")  # fmt: skip
    assert status == 74 and Path("/dev/null").is_char_device()
    written = tmp_path / "ok" / "command.key"
    status, out = run(capsys, "officers", "kiosk-key", "K1", "--url", url, "--out", str(written),
                      "--json")  # fmt: skip
    assert status == 0 and len(written.read_bytes()) == 32
    assert written.stat().st_mode & 0o777 == 0o600
