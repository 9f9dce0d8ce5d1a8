"""Border revision b0005i: kiosk log keys and heads, one truthful entry per
traveller, referral images capped and purged, NOTIFY without kiosk ids
(issue 19 items 1, 2, 7, 8, 9; docs/border.md, docs/security.md).

- kiosk_logs: per kiosk, the SHA-256 of its log-key proof (kiosk.store.seal
  LogSealer.proof; the border never holds the key) and the newest local head
  the kiosk reported. border_log_attest() (kiosk roles) checks both in the
  push's own transaction: a missing or different key, a head that went back
  (a restored older copy of the local database) or forked raises a kiosk
  alert, holds the kiosk, and leaves the transaction unattested, and the
  events guard refuses an enrolled or held kiosk's events without a good
  attestation in the same transaction. border_log_rekey() (owner only,
  audited as a 'key_rotated' alert) lets a new key enrol.
- kiosk_roles gain port and lane: a kiosk role writes events for its own
  port and lane only (when provisioned with them).
- events gain entry_conflict: an admitted entry of a document whose earlier
  admitted entry has no admitted exit after it is kept but flagged (and
  alerted), and entry_records keeps the earlier record instead of letting
  the newer one replace it.
- referral_images gain stored_at; a trigger caps expires_at at
  border_settings.referral_image_max_h, and border_purge_images() deletes
  what is past its expiry or the maximum in force now.
- NOTIFY payloads are empty: anyone with LISTEN (PostgreSQL cannot refuse it)
  learns only that something changed, not which kiosk.

Revision ID: b0005i
Revises: b0003
"""

import sqlalchemy as sa
from alembic import op

revision = "b0005i"
down_revision = "b0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
DEFAULT_IMAGE_MAX_H = 720
STATION_CHANNEL = "egate_station"
COMMAND_CHANNEL = "egate_commands"

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
      {conflict}
) ranked
WHERE recency = 1
"""


def upgrade() -> None:
    op.create_table(
        "kiosk_logs",
        sa.Column("kiosk_id", sa.String(64), primary_key=True),
        sa.Column("verifier", sa.String(64)),
        sa.Column("enrolled_at", TS),
        sa.Column("reported_seq", sa.BigInteger()),
        sa.Column("reported_hash", sa.String(64)),
        sa.Column("reported_at", TS),
        sa.Column("held_reason", sa.Text()),
        sa.Column("attested_xact", sa.BigInteger()),
    )
    op.create_table(
        "border_settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.execute(
        "INSERT INTO border_settings (name, value) "
        f"VALUES ('referral_image_max_h', '{DEFAULT_IMAGE_MAX_H}')"
    )
    # Plain ADD COLUMN, not SQLite's batch mode: rebuilding events would drop
    # its b0002 triggers on the stand-in.
    op.add_column("kiosk_roles", sa.Column("port", sa.String(3)))
    op.add_column("kiosk_roles", sa.Column("lane", sa.Integer()))
    op.add_column(
        "events",
        sa.Column("entry_conflict", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    stored_at = sa.Column(
        "stored_at", TS, nullable=False, server_default=sa.func.current_timestamp()
    )
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("referral_images", stored_at)
        _postgresql()
    else:
        # SQLite adds no column with a non-constant default; referral_images
        # has no triggers to lose in a rebuild.
        with op.batch_alter_table("referral_images") as batch:
            batch.add_column(stored_at)
        op.execute("DROP VIEW IF EXISTS entry_records")
        op.execute(
            "CREATE VIEW entry_records AS "
            + _ENTRY_SELECT.format(least="MIN", conflict="AND NOT entry_conflict")
        )


def _postgresql() -> None:
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    path = bind.dialect.identifier_preparer.quote(schema)
    definer = f"SECURITY DEFINER SET search_path = {path}, pg_temp"
    op.execute(
        "CREATE OR REPLACE VIEW entry_records AS "
        + _ENTRY_SELECT.format(least="LEAST", conflict="AND NOT entry_conflict")
    )
    _log_functions(definer)
    _events_triggers(definer)
    _images(definer)
    # Wake-ups only: the payload named the kiosk, and any role may LISTEN.
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION border_notify_station() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{STATION_CHANNEL}', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION border_notify_command() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{COMMAND_CHANNEL}', '');
            PERFORM pg_notify('{STATION_CHANNEL}', '');
            RETURN NULL;
        END $$
        """
    )


# One open alert per kiosk and kind: a kiosk retrying every cycle files one.
_ALERT = """
            IF NOT EXISTS (SELECT 1 FROM kiosk_alerts WHERE kiosk_id = {kiosk}
                           AND kind = {kind} AND acknowledged_at IS NULL) THEN
                INSERT INTO kiosk_alerts (kiosk_id, kind, detail, log_seq, raised_at)
                VALUES ({kiosk}, {kind}, left({detail}, 500), {seq}, now());
            END IF;
"""


def _log_functions(definer: str) -> None:
    _log_attest(definer)
    _log_status_and_rekey(definer)


def _log_attest(definer: str) -> None:
    alert = _ALERT.format(kiosk="v_kiosk", kind="v_kind", detail="v_detail", seq="p_seq")
    op.execute(
        f"""
        CREATE FUNCTION border_log_attest(p_proof text, p_seq bigint, p_hash text)
        RETURNS text LANGUAGE plpgsql {definer} AS $$
        DECLARE
            v_kiosk text;
            v_log kiosk_logs%ROWTYPE;
            v_given text := CASE WHEN p_proof IS NULL THEN NULL
                                 ELSE encode(sha256(convert_to(p_proof, 'UTF8')), 'hex') END;
            v_border_seq bigint;
            v_border_hash text;
            v_kind text;
            v_detail text;
        BEGIN
            SELECT kiosk_id INTO v_kiosk FROM kiosk_roles WHERE role_name = session_user;
            IF v_kiosk IS NULL THEN
                RAISE EXCEPTION 'role % has no kiosk id', session_user USING ERRCODE = '42501';
            END IF;
            IF p_seq IS NULL OR p_seq < 0 THEN
                RAISE EXCEPTION 'a head has a sequence number >= 0' USING ERRCODE = '22023';
            END IF;
            INSERT INTO kiosk_logs (kiosk_id) VALUES (v_kiosk) ON CONFLICT DO NOTHING;
            SELECT * INTO v_log FROM kiosk_logs WHERE kiosk_id = v_kiosk FOR UPDATE;
            SELECT log_seq INTO v_border_seq FROM kiosk_chain_heads WHERE kiosk_id = v_kiosk;
            SELECT chain_hash INTO v_border_hash FROM events
                WHERE kiosk_id = v_kiosk AND log_seq = p_seq;
            IF v_log.verifier IS NOT NULL AND v_given IS NULL THEN
                v_kind := 'key_missing';
                v_detail := 'the kiosk enrolled a log key at the border and now shows none';
            ELSIF v_log.verifier IS NOT NULL AND v_given <> v_log.verifier THEN
                v_kind := 'key_mismatch';
                v_detail := 'the kiosk shows a log key other than the one it enrolled';
            ELSIF p_seq < greatest(v_log.reported_seq, v_border_seq) THEN
                v_kind := 'rollback';
                v_detail := format('local head went back from seq %s to seq %s (a restored '
                                   'older copy loses the events between)',
                                   greatest(v_log.reported_seq, v_border_seq), p_seq);
            ELSIF (p_seq = v_log.reported_seq AND p_hash IS DISTINCT FROM v_log.reported_hash)
                  OR (v_border_hash IS NOT NULL AND p_hash IS DISTINCT FROM v_border_hash) THEN
                v_kind := 'fork';
                v_detail := format('local head seq %s has a chain hash other than the one '
                                   'seen before', p_seq);
            ELSIF v_log.held_reason IS NOT NULL THEN
                RETURN 'held';
            END IF;
            IF v_kind IS NOT NULL THEN
                {alert}
                UPDATE kiosk_logs SET held_reason = coalesce(held_reason, v_detail),
                                      attested_xact = NULL
                    WHERE kiosk_id = v_kiosk;
                RETURN v_kind;
            END IF;
            UPDATE kiosk_logs SET
                verifier = coalesce(verifier, v_given),
                enrolled_at = CASE WHEN verifier IS NULL AND v_given IS NOT NULL
                                   THEN now() ELSE enrolled_at END,
                reported_seq = p_seq, reported_hash = p_hash, reported_at = now(),
                attested_xact = txid_current()
                WHERE kiosk_id = v_kiosk;
            RETURN 'ok';
        END
        $$
        """
    )


def _log_status_and_rekey(definer: str) -> None:
    op.execute(
        f"""
        CREATE FUNCTION border_log_status(p_proof text)
        RETURNS TABLE (key_state text, reported_seq bigint, reported_hash varchar,
                       held_reason text)
        LANGUAGE sql STABLE {definer} AS $$
            SELECT CASE WHEN l.verifier IS NULL THEN 'none'
                        WHEN p_proof IS NULL THEN 'missing'
                        WHEN encode(sha256(convert_to(p_proof, 'UTF8')), 'hex') = l.verifier
                            THEN 'match'
                        ELSE 'mismatch' END,
                   l.reported_seq, l.reported_hash, l.held_reason
            FROM kiosk_roles r LEFT JOIN kiosk_logs l ON l.kiosk_id = r.kiosk_id
            WHERE r.role_name = session_user::text
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION border_log_rekey(p_kiosk_id text, p_reason text)
        RETURNS boolean LANGUAGE plpgsql {definer} AS $$
        DECLARE
            v_detail text;
        BEGIN
            IF coalesce(trim(p_reason), '') = '' THEN
                RAISE EXCEPTION 'a key rotation needs a reason' USING ERRCODE = '22023';
            END IF;
            v_detail := format('log key enrolment cleared by %s: %s', session_user, p_reason);
            UPDATE kiosk_logs SET verifier = NULL, enrolled_at = NULL, held_reason = NULL,
                                  reported_seq = NULL, reported_hash = NULL
                WHERE kiosk_id = p_kiosk_id;
            IF NOT FOUND THEN
                RETURN false;
            END IF;
            -- The audit: an alert the supervisor sees and acknowledges.
            INSERT INTO kiosk_alerts (kiosk_id, kind, detail, raised_at)
                VALUES (p_kiosk_id, 'key_rotated', left(v_detail, 500), now());
            RETURN true;
        END
        $$
        """
    )
    for name in (
        "border_log_attest(text, bigint, text)",
        "border_log_status(text)",
        "border_log_rekey(text, text)",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")


def _events_triggers(definer: str) -> None:
    op.execute(
        f"""
        CREATE FUNCTION border_events_guard() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        DECLARE
            v_role kiosk_roles%ROWTYPE;
            v_log kiosk_logs%ROWTYPE;
        BEGIN
            SELECT * INTO v_role FROM kiosk_roles WHERE role_name = session_user;
            IF NOT FOUND THEN
                RETURN NEW;  -- not a kiosk role: events_chain decides
            END IF;
            IF (v_role.port IS NOT NULL AND NEW.port IS DISTINCT FROM v_role.port)
               OR (v_role.lane IS NOT NULL AND NEW.lane IS DISTINCT FROM v_role.lane) THEN
                RAISE EXCEPTION 'role % writes events of port % lane % only, not % lane %',
                    session_user, v_role.port, v_role.lane, NEW.port, NEW.lane
                    USING ERRCODE = '42501';
            END IF;
            SELECT * INTO v_log FROM kiosk_logs WHERE kiosk_id = v_role.kiosk_id;
            IF FOUND AND v_log.held_reason IS NOT NULL THEN
                RAISE EXCEPTION 'kiosk % is held: %', v_role.kiosk_id, v_log.held_reason
                    USING ERRCODE = '42501';
            END IF;
            IF FOUND AND v_log.verifier IS NOT NULL
               AND v_log.attested_xact IS DISTINCT FROM txid_current() THEN
                RAISE EXCEPTION 'kiosk % enrolled a log key: its events need '
                    'border_log_attest() in the same transaction', v_role.kiosk_id
                    USING ERRCODE = '42501';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    # Fires before events_chain (triggers of one event fire in name order).
    op.execute(
        "CREATE TRIGGER events_attest_guard BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION border_events_guard()"
    )
    op.execute(
        f"""
        CREATE FUNCTION border_events_entry_conflict() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        DECLARE
            v_prev events%ROWTYPE;
            v_detail text;
        BEGIN
            NEW.entry_conflict := false;
            IF NEW.direction <> 'entry' OR NEW.outcome <> 'admitted'
               OR NEW.document_number IS NULL
               OR EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id) THEN
                RETURN NEW;
            END IF;
            SELECT * INTO v_prev FROM events
                WHERE document_number = NEW.document_number
                  AND issuing_state IS NOT DISTINCT FROM NEW.issuing_state
                  AND direction = 'entry' AND outcome = 'admitted' AND NOT entry_conflict
                ORDER BY received_at DESC LIMIT 1;
            IF FOUND AND NOT EXISTS (
                SELECT 1 FROM events
                WHERE document_number = NEW.document_number
                  AND issuing_state IS NOT DISTINCT FROM NEW.issuing_state
                  AND direction = 'exit' AND outcome = 'admitted'
                  AND received_at >= v_prev.received_at) THEN
                -- Two entries without an exit between: one of them is not true.
                -- Keep the record the exit lanes already rely on; the officer decides.
                NEW.entry_conflict := true;
                v_detail := format(
                    'entry %s of document %s/%s at %s lane %s conflicts with entry %s at %s '
                    '(kiosk %s) with no exit between; the earlier record stands',
                    NEW.event_id, NEW.issuing_state, NEW.document_number, NEW.port, NEW.lane,
                    v_prev.event_id, v_prev.port, v_prev.kiosk_id);
                INSERT INTO kiosk_alerts (kiosk_id, kind, detail, log_seq, event_id, raised_at)
                VALUES (NEW.kiosk_id, 'entry_conflict', left(v_detail, 500), NEW.log_seq,
                        NEW.event_id::text, now());
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    # Fires after events_chain, on the rows it let through.
    op.execute(
        "CREATE TRIGGER events_entry_conflict BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION border_events_entry_conflict()"
    )
    for name in ("border_events_guard()", "border_events_entry_conflict()"):
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")


def _images(definer: str) -> None:
    op.execute(
        f"""
        CREATE FUNCTION border_image_max() RETURNS interval
        LANGUAGE sql STABLE {definer} AS $$
            SELECT make_interval(hours => coalesce(
                (SELECT value::int FROM border_settings WHERE name = 'referral_image_max_h'),
                {DEFAULT_IMAGE_MAX_H}))
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION border_referral_image_cap() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        BEGIN
            -- The border's clock and maximum, whatever the kiosk asked for.
            NEW.stored_at := CASE WHEN TG_OP = 'INSERT' THEN now() ELSE OLD.stored_at END;
            NEW.expires_at := least(NEW.expires_at, NEW.stored_at + border_image_max());
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER referral_images_cap BEFORE INSERT OR UPDATE ON referral_images "
        "FOR EACH ROW EXECUTE FUNCTION border_referral_image_cap()"
    )
    op.execute(
        f"""
        CREATE FUNCTION border_purge_images() RETURNS integer
        LANGUAGE plpgsql {definer} AS $$
        DECLARE
            v_count integer;
        BEGIN
            DELETE FROM referral_images
                WHERE expires_at <= now() OR stored_at + border_image_max() <= now();
            GET DIAGNOSTICS v_count = ROW_COUNT;
            RETURN v_count;
        END
        $$
        """
    )
    for name in ("border_image_max()", "border_referral_image_cap()", "border_purge_images()"):
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")


def downgrade() -> None:
    # The view reads events.* and so holds the new column: drop it first and
    # recreate the b0002 view afterwards (re-run `egate border init` for grants).
    op.execute("DROP VIEW IF EXISTS entry_records")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS referral_images_cap ON referral_images")
        op.execute("DROP TRIGGER IF EXISTS events_entry_conflict ON events")
        op.execute("DROP TRIGGER IF EXISTS events_attest_guard ON events")
        for name in (
            "border_purge_images()",
            "border_referral_image_cap()",
            "border_image_max()",
            "border_events_entry_conflict()",
            "border_events_guard()",
            "border_log_rekey(text, text)",
            "border_log_status(text)",
            "border_log_attest(text, bigint, text)",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {name}")
    # ALTER TABLE ... DROP COLUMN on both (SQLite >= 3.35): no table rebuild,
    # so the stand-in keeps its events triggers.
    for table, name in (
        ("referral_images", "stored_at"),
        ("events", "entry_conflict"),
        ("kiosk_roles", "lane"),
        ("kiosk_roles", "port"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
    least = "LEAST" if op.get_bind().dialect.name == "postgresql" else "MIN"
    op.execute("CREATE VIEW entry_records AS " + _ENTRY_SELECT.format(least=least, conflict=""))
    op.drop_table("border_settings")
    op.drop_table("kiosk_logs")
