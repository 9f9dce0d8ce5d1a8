"""The SQLite stand-in keeps the border's chain rules and bounds (revision b0002)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local
from tests.border.conftest import append, make_record


def test_the_standin_applies_the_same_bounds(tmp_path: Path) -> None:
    from kiosk.border.database import open_border

    border = open_border(f"sqlite:///{tmp_path}/border.sqlite")
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    now = datetime.now(UTC)
    append(local, make_record(finished_at=now + timedelta(days=1)))
    result = BorderSync(local, border, "K1").push()
    assert result.pushed == 0 and result.error is not None
    assert "ahead of the border clock" in result.error
    with pytest.raises(IntegrityError, match="beyond any policy"), border.begin() as c:
        c.execute(
            text(
                "INSERT INTO events (event_id, kiosk_id, port, lane, direction, outcome, "
                "reasons, document, checks, stages, started_at, finished_at, chain_hash, "
                "log_seq, prev_hash, permitted_until) VALUES (:id, 'K1', 'CSX', 1, 'entry', "
                "'admitted', '[]', '{}', '{}', '{}', :at, :at, 'f', 1, :g, :until)"
            ),
            {"id": uuid.uuid4().hex, "at": now.strftime("%Y-%m-%d %H:%M:%S"), "g": "0" * 64,
             "until": (now + timedelta(days=36500)).strftime("%Y-%m-%d %H:%M:%S")},
        )  # fmt: skip
