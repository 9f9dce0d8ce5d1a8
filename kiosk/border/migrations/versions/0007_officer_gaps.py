"""Border revision b0007g: the officer loop's loose ends (issues 18 and 19).

- A case whose command the kiosk answered `rejected` or `failed` opens again: a
  trigger on `commands` (the kiosk's acknowledgement) sets the referral back to
  `open` and appends `case_reopened` to the keyed officer log, so an officer can
  act again (e.g. `manual`). Only the case's latest command, answered for the
  first time, reopens it: a kiosk cannot turn an executed admit into a second one.
- border_officer_resolve refuses an admit after face_mismatch, chip_not_genuine
  or watchlist_hit without at least 10 typed characters (`reason_needed`), the
  rule the station's window already applies (reasons.check_case_reason).
- kiosk_status.alarms: the lane's own alarms (Lane.alarms codes, e.g.
  event_log_unavailable), written by the agent through its column grants.
- border_officer_ack_alert: a supervisor acknowledges one kiosk alert
  (kiosk_alerts), audited in the officer log.

Revision ID: b0007g
Revises: b0006m
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "b0007g"
down_revision = "b0006m"
branch_labels = None
depends_on = None

# kiosk.supervisor.reasons.TYPED_REASON_NEEDED and MIN_TYPED_REASON.
RISKY = "ARRAY['face_mismatch', 'chip_not_genuine', 'watchlist_hit']"
MIN_TYPED = 10


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild of the table on SQLite).
    op.add_column(
        "kiosk_status", sa.Column("alarms", sa.JSON().with_variant(JSONB(), "postgresql"))
    )
    if op.get_bind().dialect.name == "postgresql":
        path = _path()
        for sql in _FUNCTIONS:
            op.execute(sql.replace("@PATH@", path))
        op.execute(
            "CREATE TRIGGER commands_answered AFTER UPDATE OF result ON commands "
            "FOR EACH ROW EXECUTE FUNCTION border__command_answered()"
        )
        for signature in _SIGNATURES:
            op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")


def _path() -> str:
    """The schema, then pgcrypto's schema when it is another (as b0004o pins it)."""
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    q = bind.dialect.identifier_preparer.quote
    ext = bind.execute(
        sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pgcrypto'"
        )
    ).scalar_one()
    return q(schema) if ext.strip('"') == schema else f"{q(schema)}, {ext}"


_FUNCTIONS = [
    # The kiosk's first answer to a case's latest command: rejected or failed puts
    # the case back in the officers' hands.
    """
    CREATE FUNCTION border__command_answered() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    BEGIN
        IF NEW.referral_id IS NULL OR OLD.result IS NOT NULL
           OR NEW.result IS NULL OR NEW.result NOT IN ('rejected', 'failed') THEN
            RETURN NULL;
        END IF;
        IF EXISTS (SELECT 1 FROM commands WHERE referral_id = NEW.referral_id
                   AND issued_at > NEW.issued_at) THEN
            RETURN NULL;  -- an older command: the case moved on since
        END IF;
        UPDATE referrals SET status = 'open', resolved_at = NULL, resolution = NULL
        WHERE referral_id = NEW.referral_id AND status = 'resolved';
        IF FOUND THEN
            PERFORM border__log('case_reopened', NEW.kiosk_id, NEW.officer_id,
                NEW.second_officer_id, NEW.result, coalesce(NEW.result_detail, ''),
                NEW.referral_id, jsonb_build_object('command_id', NEW.command_id::text,
                                                    'command', NEW.kind));
        END IF;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION border_officer_resolve(p_token bytea, p_referral uuid,
        p_action text, p_reason text, p_text text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE o officers; r referrals; two boolean; aid uuid; res jsonb;
    BEGIN
        o := border__session(p_token);
        IF o.officer_id IS NULL THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_signed_in');
        END IF;
        IF o.role NOT IN ('officer', 'supervisor') THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_permitted');
        END IF;
        IF p_action NOT IN ('admit', 'refuse', 'manual') OR coalesce(p_reason, '') = '' THEN
            RETURN jsonb_build_object('ok', false, 'code', 'invalid_action');
        END IF;
        SELECT * INTO r FROM referrals WHERE referral_id = p_referral FOR UPDATE;
        IF NOT FOUND OR (o.port IS NOT NULL AND r.port <> o.port) THEN
            RETURN jsonb_build_object('ok', false, 'code', 'unknown_referral');
        END IF;
        IF r.status <> 'open' THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_open', 'status', r.status);
        END IF;
        -- An admit after a risky reason needs the officer's own words.
        IF p_action = 'admit' AND (r.watchlist OR r.reasons::jsonb ?| {RISKY})
           AND char_length(btrim(coalesce(p_text, ''))) < {MIN_TYPED} THEN
            RETURN jsonb_build_object('ok', false, 'code', 'reason_needed');
        END IF;
        two := r.watchlist OR r.reasons::jsonb ? 'chip_not_genuine';
        IF p_action = 'admit' AND two THEN
            aid := border__log('admit_requested', r.kiosk_id, o.officer_id, NULL, p_reason,
                               p_text, r.referral_id, '{{}}');
            UPDATE referrals SET status = 'awaiting_second' WHERE referral_id = r.referral_id;
            RETURN jsonb_build_object('ok', true, 'status', 'awaiting_second',
                                      'action_id', aid::text);
        END IF;
        res := border__issue(r.kiosk_id, p_action, r.referral_id, o.officer_id, NULL,
                             p_reason, p_text, false);
        IF (res->>'ok')::boolean THEN
            UPDATE referrals SET status = 'resolved', resolved_at = clock_timestamp(),
                resolution = p_action WHERE referral_id = r.referral_id;
        END IF;
        RETURN res;
    END $$
    """,
    # A supervisor acknowledges one kiosk alert of their port (audited).
    """
    CREATE FUNCTION border_officer_ack_alert(p_token bytea, p_alert bigint, p_text text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE o officers; al kiosk_alerts; kport text; aid uuid;
    BEGIN
        o := border__session(p_token);
        IF o.officer_id IS NULL THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_signed_in');
        END IF;
        IF o.role <> 'supervisor' THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_permitted');
        END IF;
        SELECT * INTO al FROM kiosk_alerts WHERE id = p_alert FOR UPDATE;
        SELECT port INTO kport FROM kiosk_status WHERE kiosk_id = al.kiosk_id;
        IF al.id IS NULL OR (o.port IS NOT NULL AND kport IS DISTINCT FROM o.port) THEN
            RETURN jsonb_build_object('ok', false, 'code', 'unknown_alert');
        END IF;
        IF al.acknowledged_at IS NOT NULL THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_open',
                                      'status', 'acknowledged');
        END IF;
        UPDATE kiosk_alerts SET acknowledged_at = clock_timestamp(),
            acknowledged_by = o.officer_id WHERE id = al.id;
        aid := border__log('alert_acked', al.kiosk_id, o.officer_id, NULL,
            left(al.kind, 32), left(coalesce(p_text, ''), 1000), NULL,
            jsonb_build_object('alert_id', al.id, 'kind', al.kind, 'detail', al.detail));
        RETURN jsonb_build_object('ok', true, 'status', 'acknowledged', 'action_id', aid::text);
    END $$
    """,
]

_SIGNATURES = [
    "border__command_answered()",
    "border_officer_resolve(bytea, uuid, text, text, text)",
    "border_officer_ack_alert(bytea, bigint, text)",
]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS commands_answered ON commands")
        op.execute("DROP FUNCTION IF EXISTS border_officer_ack_alert(bytea, bigint, text)")
        op.execute("DROP FUNCTION IF EXISTS border__command_answered()")
        # b0004o's resolve, without the typed-reason rule.
        b0004o = importlib.import_module("kiosk.border.migrations.versions.0004_officer_security")
        [resolve] = [f for f in b0004o._FUNCTIONS if "FUNCTION border_officer_resolve" in f]
        op.execute(
            resolve.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace(
                "@PATH@", _path()
            )
        )
    op.execute("ALTER TABLE kiosk_status DROP COLUMN alarms")
