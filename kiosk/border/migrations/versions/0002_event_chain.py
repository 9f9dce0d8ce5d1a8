"""Border revision b0002: kiosks' hash chains, alerts, bounded entries, and a
change watermark on reference data.

- events gain log_seq and prev_hash; a BEFORE INSERT trigger takes a kiosk's
  event only when it continues the chain the border holds (kiosk_chain_heads),
  refuses finished_at ahead of the border clock and permitted_until beyond any
  policy, and sets received_at from the border clock. An event that does not
  continue the chain stops that kiosk (its head gets stopped_at) and raises a
  row in kiosk_alerts for the supervisor station.
- entry_records orders by received_at and bounds the entry time by it.
- reference_items gain change_seq, set from one counter by a trigger on every
  insert and update with writers serialised, so a kiosk's idle pull reads only
  what changed past its watermark.
- PostgreSQL: border_kiosk_id() answers for the caller only; border_chain_head()
  and border_kiosk_alert() for kiosk roles (SECURITY DEFINER, pinned search_path).

Revision ID: b0002
Revises: b0001
"""

import sqlalchemy as sa
from alembic import op

revision = "b0002"
down_revision = "b0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
# A kiosk's clock may run this far ahead of the border's (NTP keeps both closer).
CLOCK_SKEW_S = 300
# The longest stay a policy pack can grant (policy/pack.py: stay_days <= 3660)
# plus the day counting may add and one day of zone slack.
MAX_STAY_DAYS = 3662
TS = sa.DateTime(timezone=True)

_ENTRY_SELECT = """
SELECT event_id, kiosk_id, document_number, issuing_state, port,
       {least}(finished_at, received_at) AS entered_at, permitted_until, basis
FROM (
    SELECT e.*, ROW_NUMBER() OVER (
        PARTITION BY document_number, issuing_state
        ORDER BY received_at DESC, finished_at DESC
    ) AS recency
    FROM events e
    WHERE direction = 'entry' AND outcome = 'admitted' AND document_number IS NOT NULL
) ranked
WHERE recency = 1
"""

_OLD_ENTRY_SELECT = """
SELECT event_id, kiosk_id, document_number, issuing_state, port,
       finished_at AS entered_at, permitted_until, basis
FROM (
    SELECT e.*, ROW_NUMBER() OVER (
        PARTITION BY document_number, issuing_state
        ORDER BY finished_at DESC, received_at DESC
    ) AS recency
    FROM events e
    WHERE direction = 'entry' AND outcome = 'admitted' AND document_number IS NOT NULL
) ranked
WHERE recency = 1
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("log_seq", sa.BigInteger()))
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
    op.create_index(
        "ix_events_kiosk_seq",
        "events",
        ["kiosk_id", "log_seq"],
        unique=True,
        postgresql_where=sa.text("log_seq IS NOT NULL"),
        sqlite_where=sa.text("log_seq IS NOT NULL"),
    )
    op.create_table(
        "kiosk_chain_heads",
        sa.Column("kiosk_id", sa.String(64), primary_key=True),
        sa.Column("log_seq", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.String(64)),
        sa.Column("event_id", sa.Uuid()),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("stopped_at", TS),
        sa.Column("stop_reason", sa.Text()),
    )
    op.create_table(
        "kiosk_alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("log_seq", sa.BigInteger()),
        sa.Column("event_id", sa.String(36)),
        sa.Column("expected_hash", sa.String(64)),
        sa.Column("received_hash", sa.String(64)),
        sa.Column("raised_at", TS, nullable=False, server_default=sa.func.current_timestamp()),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_by", sa.String(63)),
    )
    op.create_index("ix_kiosk_alerts_kiosk", "kiosk_alerts", ["kiosk_id", "raised_at"])
    with op.batch_alter_table("reference_items") as batch:
        batch.add_column(
            sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_index("ix_reference_items_change_seq", "reference_items", ["change_seq"])
    if dialect == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _postgresql() -> None:
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    path = bind.dialect.identifier_preparer.quote(schema)
    definer = f"SECURITY DEFINER SET search_path = {path}, pg_temp"
    _pg_chain(definer)
    _pg_heads_and_alerts(definer)
    _pg_reference_sequence(definer)


def _pg_chain(definer: str) -> None:
    """The entry-record view, the kiosk id lookup and the events chain trigger."""
    op.execute(f"CREATE OR REPLACE VIEW entry_records AS {_ENTRY_SELECT.format(least='LEAST')}")
    # Only the caller's own mapping: a kiosk cannot learn another kiosk's id.
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION border_kiosk_id(p_role text) RETURNS text
        LANGUAGE sql STABLE {definer} AS $$
            SELECT kiosk_id FROM kiosk_roles
            WHERE role_name = p_role AND p_role = session_user::text
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION border_events_chain() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        DECLARE
            v_mapped text;
            v_seq bigint;
            v_kiosk text;
            v_hash text;
            v_expected text;
            v_kind text;
            v_detail text;
        BEGIN
            -- Row-level security checks the row after this trigger; check the
            -- caller first so nobody can stop or advance another kiosk's chain.
            SELECT kiosk_id INTO v_mapped FROM kiosk_roles WHERE role_name = session_user;
            IF v_mapped IS NULL THEN
                IF NOT pg_has_role(session_user,
                                   (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                                   'USAGE') THEN
                    RAISE EXCEPTION 'role % has no kiosk id: row-level security refuses '
                        'its events', session_user USING ERRCODE = '42501';
                END IF;
            ELSIF v_mapped <> NEW.kiosk_id THEN
                RAISE EXCEPTION 'role % writes events of kiosk % only (row-level security), '
                    'not of %', session_user, v_mapped, NEW.kiosk_id USING ERRCODE = '42501';
            END IF;
            IF NEW.log_seq IS NULL OR NEW.prev_hash IS NULL THEN
                RAISE EXCEPTION 'event %: log_seq and prev_hash are required (hash chain)',
                    NEW.event_id USING ERRCODE = '23502';
            END IF;
            IF NEW.finished_at > now() + interval '{CLOCK_SKEW_S} seconds' THEN
                RAISE EXCEPTION 'event %: finished_at % is ahead of the border clock (%)',
                    NEW.event_id, NEW.finished_at, now() USING ERRCODE = '23514';
            END IF;
            IF NEW.started_at > NEW.finished_at THEN
                RAISE EXCEPTION 'event %: started_at is after finished_at', NEW.event_id
                    USING ERRCODE = '23514';
            END IF;
            IF NEW.permitted_until > now() + interval '{MAX_STAY_DAYS} days' THEN
                RAISE EXCEPTION 'event %: permitted_until % is beyond any policy''s stay',
                    NEW.event_id, NEW.permitted_until USING ERRCODE = '23514';
            END IF;
            NEW.received_at := now();
            -- One writer per kiosk chain at a time (held to the end of the
            -- transaction; taking it again in the same transaction is cheap).
            PERFORM pg_advisory_xact_lock(hashtext('egate.chain'), hashtext(NEW.kiosk_id));
            IF EXISTS (SELECT 1 FROM kiosk_chain_heads
                       WHERE kiosk_id = NEW.kiosk_id AND stopped_at IS NOT NULL) THEN
                RETURN NULL;  -- stopped: nothing more from this kiosk
            END IF;
            -- The head is the kiosk's newest chained event, earlier rows of this
            -- statement included (a BEFORE trigger sees them).
            SELECT log_seq, chain_hash INTO v_seq, v_expected FROM events
                WHERE kiosk_id = NEW.kiosk_id AND log_seq IS NOT NULL
                ORDER BY log_seq DESC LIMIT 1;
            IF NOT FOUND THEN
                v_seq := 0;
                -- Rows pushed before b0002 carry no chain: the first chained event
                -- of such a kiosk anchors it.
                v_expected := CASE WHEN EXISTS (SELECT 1 FROM events
                                                WHERE kiosk_id = NEW.kiosk_id)
                                   THEN NEW.prev_hash ELSE '{GENESIS}' END;
            END IF;
            IF NEW.prev_hash = v_expected AND NEW.log_seq > v_seq
               AND NOT EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id) THEN
                RETURN NEW;
            END IF;
            SELECT kiosk_id, chain_hash INTO v_kiosk, v_hash FROM events
                WHERE event_id = NEW.event_id;
            IF FOUND AND v_kiosk = NEW.kiosk_id AND v_hash = NEW.chain_hash THEN
                RETURN NEW;  -- a re-delivery: ON CONFLICT (event_id) skips it
            ELSIF FOUND THEN
                v_kind := 'event_id_taken';
                v_detail := format('event %s (seq %s): the id is held by a different event',
                                   NEW.event_id, NEW.log_seq);
            ELSE
                v_kind := 'chain_break';
                v_detail := format(
                    'event %s (seq %s) continues %s; the border holds seq %s, %s',
                    NEW.event_id, NEW.log_seq, NEW.prev_hash, v_seq, v_expected);
            END IF;
            INSERT INTO kiosk_alerts (kiosk_id, kind, detail, log_seq, event_id,
                                      expected_hash, received_hash, raised_at)
            VALUES (NEW.kiosk_id, v_kind, v_detail, NEW.log_seq, NEW.event_id::text,
                    v_expected, NEW.prev_hash, now());
            INSERT INTO kiosk_chain_heads (kiosk_id, log_seq, chain_hash, updated_at,
                                           stopped_at, stop_reason)
            VALUES (NEW.kiosk_id, v_seq, NULLIF(v_expected, '{GENESIS}'), now(), now(),
                    v_detail)
            ON CONFLICT (kiosk_id) DO UPDATE SET stopped_at = now(), stop_reason = v_detail;
            RETURN NULL;
        END
        $$
        """
    )


def _pg_heads_and_alerts(definer: str) -> None:
    # The head table follows once per statement (supervisor view, chain head
    # lookups); the trigger above reads the events themselves.
    op.execute(
        f"""
        CREATE FUNCTION border_events_chain_heads() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        BEGIN
            INSERT INTO kiosk_chain_heads AS h (kiosk_id, log_seq, chain_hash, event_id,
                                                updated_at)
            SELECT DISTINCT ON (kiosk_id) kiosk_id, log_seq, chain_hash, event_id, now()
            FROM new_events WHERE log_seq IS NOT NULL
            ORDER BY kiosk_id, log_seq DESC
            ON CONFLICT (kiosk_id) DO UPDATE
                SET log_seq = EXCLUDED.log_seq, chain_hash = EXCLUDED.chain_hash,
                    event_id = EXCLUDED.event_id, updated_at = EXCLUDED.updated_at
                WHERE h.log_seq < EXCLUDED.log_seq;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_chain_heads AFTER INSERT ON events "
        "REFERENCING NEW TABLE AS new_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION border_events_chain_heads()"
    )
    op.execute(
        "CREATE TRIGGER events_chain BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION border_events_chain()"
    )
    op.execute(
        f"""
        CREATE FUNCTION border_chain_head(p_kiosk_id text)
        RETURNS TABLE (log_seq bigint, chain_hash varchar, stopped_at timestamptz,
                       stop_reason text)
        LANGUAGE sql STABLE {definer} AS $$
            SELECT h.log_seq, h.chain_hash, h.stopped_at, h.stop_reason
            FROM kiosk_chain_heads h
            WHERE h.kiosk_id = p_kiosk_id AND (
                EXISTS (SELECT 1 FROM kiosk_roles r WHERE r.role_name = session_user::text
                        AND r.kiosk_id = p_kiosk_id)
                OR pg_has_role(session_user,
                               (SELECT relowner FROM pg_class
                                WHERE oid = 'kiosk_chain_heads'::regclass), 'USAGE'))
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION border_kiosk_alert(p_kind text, p_detail text, p_log_seq bigint)
        RETURNS void LANGUAGE plpgsql {definer} AS $$
        DECLARE
            v_kiosk text;
        BEGIN
            SELECT kiosk_id INTO v_kiosk FROM kiosk_roles WHERE role_name = session_user;
            IF v_kiosk IS NULL THEN
                RAISE EXCEPTION 'role % has no kiosk id', session_user USING ERRCODE = '42501';
            END IF;
            IF p_kind NOT IN ('local_log', 'outbox', 'diverged', 'refused') THEN
                RAISE EXCEPTION 'unknown alert kind %', p_kind USING ERRCODE = '22023';
            END IF;
            -- One open alert per fault, however often the kiosk retries.
            IF NOT EXISTS (SELECT 1 FROM kiosk_alerts WHERE kiosk_id = v_kiosk
                           AND kind = p_kind AND log_seq IS NOT DISTINCT FROM p_log_seq
                           AND acknowledged_at IS NULL) THEN
                INSERT INTO kiosk_alerts (kiosk_id, kind, detail, log_seq, raised_at)
                VALUES (v_kiosk, p_kind, left(p_detail, 500), p_log_seq, now());
            END IF;
        END
        $$
        """
    )
    for name in ("border_chain_head(text)", "border_kiosk_alert(text, text, bigint)"):
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")


def _pg_reference_sequence(definer: str) -> None:
    # Reference data: one counter, writers serialised by a transaction lock so
    # that change_seq becomes visible in increasing order.
    op.execute("CREATE SEQUENCE reference_items_change_seq")
    op.execute("UPDATE reference_items SET change_seq = nextval('reference_items_change_seq')")
    op.execute(
        f"""
        CREATE FUNCTION border_reference_change() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('egate.reference_items.change_seq'));
            NEW.change_seq := nextval('reference_items_change_seq');
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER reference_items_change BEFORE INSERT OR UPDATE ON reference_items "
        "FOR EACH ROW EXECUTE FUNCTION border_reference_change()"
    )


# The SQLite stand-in has no roles; the triggers keep the chain rules and bounds.
_SQLITE_BREAK = (
    "EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id) "
    "OR NEW.log_seq <= h.log_seq "
    "OR NEW.prev_hash IS NOT COALESCE(h.chain_hash, CASE WHEN EXISTS "
    "(SELECT 1 FROM events WHERE kiosk_id = NEW.kiosk_id) THEN NEW.prev_hash "
    f"ELSE '{GENESIS}' END)"
)
_SQLITE_TRIGGERS = {
    "events_chain": f"""
        BEFORE INSERT ON events BEGIN
        SELECT RAISE(ABORT, 'log_seq and prev_hash are required (hash chain)')
            WHERE NEW.log_seq IS NULL OR NEW.prev_hash IS NULL;
        SELECT RAISE(ABORT, 'finished_at is ahead of the border clock')
            WHERE datetime(NEW.finished_at) > datetime('now', '+{CLOCK_SKEW_S} seconds');
        SELECT RAISE(ABORT, 'started_at is after finished_at')
            WHERE datetime(NEW.started_at) > datetime(NEW.finished_at);
        SELECT RAISE(ABORT, 'permitted_until is beyond any policy''s stay')
            WHERE datetime(NEW.permitted_until) > datetime('now', '+{MAX_STAY_DAYS} days');
        SELECT RAISE(IGNORE) WHERE EXISTS (SELECT 1 FROM events WHERE
            event_id = NEW.event_id AND kiosk_id = NEW.kiosk_id
            AND chain_hash = NEW.chain_hash);
        INSERT OR IGNORE INTO kiosk_chain_heads (kiosk_id, log_seq, updated_at)
            VALUES (NEW.kiosk_id, 0, CURRENT_TIMESTAMP);
        SELECT RAISE(IGNORE) FROM kiosk_chain_heads
            WHERE kiosk_id = NEW.kiosk_id AND stopped_at IS NOT NULL;
        INSERT INTO kiosk_alerts (kiosk_id, kind, detail, log_seq, event_id, expected_hash,
                                  received_hash, raised_at)
            SELECT NEW.kiosk_id,
                   CASE WHEN EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id)
                        THEN 'event_id_taken' ELSE 'chain_break' END,
                   'event ' || NEW.event_id || ' (seq ' || NEW.log_seq || ') continues '
                       || NEW.prev_hash || '; the border holds seq ' || h.log_seq || ', '
                       || COALESCE(h.chain_hash, 'no chain'),
                   NEW.log_seq, NEW.event_id, h.chain_hash, NEW.prev_hash, CURRENT_TIMESTAMP
            FROM kiosk_chain_heads h WHERE h.kiosk_id = NEW.kiosk_id AND ({_SQLITE_BREAK});
        UPDATE kiosk_chain_heads SET stopped_at = CURRENT_TIMESTAMP,
            stop_reason = 'event ' || NEW.event_id || ' (seq ' || NEW.log_seq
                || ') does not continue the chain'
            WHERE kiosk_id = NEW.kiosk_id AND EXISTS (SELECT 1 FROM kiosk_chain_heads h
                WHERE h.kiosk_id = NEW.kiosk_id AND ({_SQLITE_BREAK}));
        SELECT RAISE(IGNORE) FROM kiosk_chain_heads
            WHERE kiosk_id = NEW.kiosk_id AND stopped_at IS NOT NULL;
        END""",
    "events_chain_advance": """
        AFTER INSERT ON events BEGIN
        UPDATE kiosk_chain_heads SET log_seq = NEW.log_seq, chain_hash = NEW.chain_hash,
            event_id = NEW.event_id, updated_at = CURRENT_TIMESTAMP
            WHERE kiosk_id = NEW.kiosk_id;
        UPDATE events SET received_at = CURRENT_TIMESTAMP WHERE event_id = NEW.event_id;
        END""",
    "reference_items_change_insert": """
        AFTER INSERT ON reference_items BEGIN
        UPDATE reference_items SET change_seq =
            (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM reference_items) WHERE id = NEW.id;
        END""",
    "reference_items_change_update": """
        AFTER UPDATE ON reference_items WHEN NEW.change_seq IS OLD.change_seq BEGIN
        UPDATE reference_items SET change_seq =
            (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM reference_items) WHERE id = NEW.id;
        END""",
}


def _sqlite() -> None:
    op.execute("DROP VIEW IF EXISTS entry_records")
    op.execute(f"CREATE VIEW entry_records AS {_ENTRY_SELECT.format(least='MIN')}")
    op.execute("UPDATE reference_items SET change_seq = id")
    for name, body in _SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS reference_items_change ON reference_items")
        op.execute("DROP FUNCTION IF EXISTS border_reference_change()")
        op.execute("DROP SEQUENCE IF EXISTS reference_items_change_seq")
        op.execute("DROP TRIGGER IF EXISTS events_chain ON events")
        op.execute("DROP TRIGGER IF EXISTS events_chain_heads ON events")
        op.execute("DROP FUNCTION IF EXISTS border_events_chain_heads()")
        op.execute("DROP FUNCTION IF EXISTS border_events_chain()")
        op.execute("DROP FUNCTION IF EXISTS border_chain_head(text)")
        op.execute("DROP FUNCTION IF EXISTS border_kiosk_alert(text, text, bigint)")
        op.execute(f"CREATE OR REPLACE VIEW entry_records AS {_OLD_ENTRY_SELECT}")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP VIEW IF EXISTS entry_records")
        op.execute(f"CREATE VIEW entry_records AS {_OLD_ENTRY_SELECT}")
    op.drop_index("ix_reference_items_change_seq", "reference_items")
    with op.batch_alter_table("reference_items") as batch:
        batch.drop_column("change_seq")
    op.drop_table("kiosk_alerts")
    op.drop_table("kiosk_chain_heads")
    op.drop_index("ix_events_kiosk_seq", "events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("prev_hash")
        batch.drop_column("log_seq")
