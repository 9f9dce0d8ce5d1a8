"""A pull that meets a corrupted item does not vouch for the reference data."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from kiosk.border.database import open_border
from kiosk.border.publish import prepare, publish
from kiosk.border.sync import BorderSync
from kiosk.border.sync.pull import HEARTBEAT_KEY, HEARTBEAT_KIND
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore


def test_corrupt_item_leaves_no_fresh_heartbeat(tmp_path: Path) -> None:
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    border = open_border(f"sqlite:///{tmp_path}/border.sqlite")
    publish(border, prepare("watchlist", b"", "USA:Z1"), "admin")
    with border.begin() as c:  # the stored payload no longer matches its digest
        c.execute(text("UPDATE reference_items SET payload = :p"), {"p": b"tampered"})
    result = BorderSync(local, border, "K1").pull()
    assert result.error is not None and "sha256" in result.error
    refs = ReferenceStore(local)
    assert refs.get(HEARTBEAT_KIND, HEARTBEAT_KEY) is None
    assert refs.get("watchlist", "USA:Z1") is None
