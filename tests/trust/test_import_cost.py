"""Issue 20 item 6: `egate trust import` of a master list makes the same number of SQL
statements whatever its certificate count (it wrote row by row, one transaction a
certificate, and took seconds for a 600-certificate list). Counts, not timings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from devices.simulated import pki
from kiosk.cli.main import main
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore
from tests.border.conftest import pg_server  # noqa: F401 - fixture
from tests.trust.conftest import NOW


def _master_list(count: int) -> bytes:
    state = pki.make_test_pki("MLA", now=NOW)
    key = pki.cached_key("rsa2048", "import-cost/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key(), now=NOW)
    csca_key = pki.cached_key("ecdsa-p256", "import-cost/csca")
    members = [
        pki.make_csca_certificate(
            "QQQ", csca_key, now=NOW, serial=i + 1, subject=pki.country_name(f"Q{i:03d}", "CSCA", i)
        )
        for i in range(count)
    ]
    return pki.make_master_list([state.csca_cert, *members], signer, key)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine sends while the test runs (an executemany
    counts once: it is one round of the driver, however many rows)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def _import(
    tmp_path: Path, name: str, raw: bytes, statements: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[list[int], dict[str, Any]]:
    """Statements of importing `raw` into an empty store, then into one that holds it."""
    config = tmp_path / f"{name}.toml"
    database = tmp_path / f"{name}.sqlite"
    config.write_text(f'[storage]\nlocal_url = "sqlite:///{database}"\n')
    open_local(f"sqlite:///{database}").dispose()  # created and migrated beforehand
    ml = tmp_path / f"{name}.ml"
    ml.write_bytes(raw)
    counts, outputs = [], []
    for _ in range(2):
        statements.clear()
        status = main(["trust", "import", str(ml), "--config", str(config), "--json",
                       "--bootstrap-anchor"])  # fmt: skip
        assert status == 0
        counts.append(len(statements))
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[1]["rows_added"] == 0
    return counts, outputs[0]


def test_statement_count_does_not_grow_with_the_certificate_count(
    tmp_path: Path, statements: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    small, small_out = _import(tmp_path, "small", _master_list(5), statements, capsys)
    large, large_out = _import(tmp_path, "large", _master_list(120), statements, capsys)
    assert small_out["rows_added"] == 5 + 3  # the list, its CSCAs, the bootstrap anchor
    assert large_out["rows_added"] == 120 + 3
    assert small == large


@pytest.fixture(params=["sqlite", "postgresql"])
def local_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The local store on SQLite and on the real PostgreSQL (tests/border/conftest.py)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ref.sqlite"
    server = request.getfixturevalue("pg_server")
    return str(server.create_database().render_as_string(hide_password=False))


def test_put_many_is_put_in_one_transaction(local_url: str, statements: list[str]) -> None:
    engine = open_local(local_url)
    store = ReferenceStore(engine)
    assert store.put("csca", "a", b"old", "first")
    statements.clear()
    rows = [("csca", "a", b"new", "second"), ("csca", "b", b"b", "x"), ("crl", "c", b"c", "y"),
            ("csca", "b", b"b", "again")]  # fmt: skip
    assert store.put_many(rows) == 3
    # one SELECT, one INSERT (executemany), one UPDATE, inside BEGIN ... COMMIT
    assert [s for s in statements if s in ("SELECT", "INSERT", "UPDATE")] == [
        "SELECT",
        "INSERT",
        "UPDATE",
    ]
    assert store.put_many(rows) == 0
    assert store.put_many([]) == 0
    a, b = store.get("csca", "a"), store.get("csca", "b")
    assert a is not None and (a.payload, a.provenance) == (b"new", "second")
    assert b is not None and b.provenance == "x"  # the same payload again keeps the first
    assert [i.key for i in store.items("crl")] == ["c"]
    engine.dispose()
