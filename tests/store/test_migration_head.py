"""A local database already at the newest revision opens without Alembic (short
commands start faster); anything else still goes through Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from kiosk.store.database import HEAD_REVISION, MIGRATIONS, at_head, open_local

REPO = Path(__file__).resolve().parents[2]


def test_head_revision_is_alembics_head() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD_REVISION]


def test_a_current_database_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/local.sqlite"
    engine = open_local(url)  # created and migrated through Alembic
    assert at_head(engine)
    engine.dispose()
    probe = (
        "import sys; from kiosk.store.database import open_local; "
        f"open_local({url!r}); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=REPO, check=True)  # fmt: skip
    assert done.stdout.strip() == "False", done.stderr


def test_an_older_database_is_still_migrated(tmp_path: Path) -> None:
    engine = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0002'"))
        c.execute(text("ALTER TABLE referral_images DROP COLUMN stored_at"))
    assert not at_head(engine)
    engine.dispose()
    again = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    assert at_head(again)
    with again.connect() as c:
        columns = [r[1] for r in c.execute(text("PRAGMA table_info(referral_images)"))]
    assert "stored_at" in columns
