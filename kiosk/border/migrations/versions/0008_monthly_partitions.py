"""Border revision b0008p: events, referrals and officer actions partitioned by
month (issue 23 item 2; docs/border.md "Partitions").

PostgreSQL only (the SQLite stand-in is left as it is). Each table is rebuilt as
PARTITION BY RANGE on its time (events.finished_at, referrals.referred_at,
officer_actions.at) with a partition per month from its oldest row to three
months ahead and a DEFAULT partition; the rows are copied over, and what hung on
the old table (triggers, row-level security and its policies, table and column
grants, the entry_records view, functions taking the row type, owned
sequences) is put back as it was, whatever `egate border init` had granted.

A unique index of a partitioned table must hold the partition key, so event_id,
(kiosk_id, log_seq), referral_id and action_id are no longer unique by index.
Events: the chain trigger already refuses a taken id (event_id_taken) and a
seq used twice, under the kiosk's lock; a trigger firing first now takes a lock
on the event id too (two kiosks sending one id at once), and the chain trigger
skips a re-delivery itself (ON CONFLICT would see it only in the partition of
the finished_at it claims). Referrals and officer actions: BEFORE INSERT
triggers take a lock on the id, then look it up in every partition (READ
COMMITTED sees what a concurrent writer committed while it waited): a referral
published again is skipped, a taken action id refused (23505).

The keyed officer log loses its oldest links when maintenance retires old
months: officer_log_anchor keeps the last retired link (seq, chain_hash), and
border_officer_log_verify() starts from it.

One-way: the downgrade refuses (restore the backup taken before upgrading).

Revision ID: b0008p
Revises: b0007g
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import sqlalchemy as sa
from alembic import op

from kiosk.border.partitions import (
    PARTITIONED,
    PartitionedTable,
    add_months,
    create_default,
    create_month,
    month_start,
    server_month,
)

revision = "b0008p"
down_revision = "b0007g"
branch_labels = None
depends_on = None

MONTHS_AHEAD = 3
# The indexes of each rebuilt table: (name, columns, unique). Unique ones carry
# the partition key (PostgreSQL requires it); the triggers below do the rest.
INDEXES: dict[str, list[tuple[str, str, bool]]] = {
    "events": [
        ("events_pkey", "event_id, finished_at", True),
        ("ix_events_document", "document_number, issuing_state, direction, outcome", False),
        ("ix_events_kiosk_finished", "kiosk_id, finished_at", False),
        ("ix_events_kiosk_seq", "kiosk_id, log_seq", False),
    ],
    "referrals": [
        ("referrals_pkey", "referral_id, referred_at", True),
        ("ix_referrals_id", "referral_id", False),
        ("ix_referrals_status_time", "status, referred_at", False),
    ],
    "officer_actions": [
        ("officer_actions_pkey", "seq, at", True),
        ("ix_officer_actions_action", "action_id", False),
        ("ix_officer_actions_referral", "referral_id", False),
    ],
}
OFFICER_LOG_LOCK = 1701273972  # border__log's lock (b0004o)


def _q(name: str) -> str:
    return op.get_bind().dialect.identifier_preparer.quote(name)


def _grantee(role: str) -> str:
    return "PUBLIC" if role == "PUBLIC" else _q(role)


def _rows(sql: str, **params: Any) -> list[Any]:
    return list(op.get_bind().execute(sa.text(sql), params).all())


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    definer = f"SECURITY DEFINER SET search_path = {_q(schema)}, pg_temp"
    for spec in PARTITIONED:
        _rebuild(spec)
    _uniqueness(definer)
    _amend_chain_trigger()
    _entry_record_plan_kept(definer)
    _officer_anchor(definer)


def _acl(sql: str, **params: Any) -> list[tuple[str, ...]]:
    return [tuple(str(v) for v in r) for r in _rows(sql, **params)]


def _capture(t: str) -> dict[str, Any]:
    """Everything hanging on table `t` that DROP TABLE would take with it."""
    explode = "CROSS JOIN LATERAL aclexplode({acl}) a LEFT JOIN pg_roles r ON r.oid = a.grantee"
    role = "coalesce(r.rolname, 'PUBLIC')"
    got: dict[str, Any] = {}
    got["grants"] = _acl(
        f"SELECT {role}, a.privilege_type FROM pg_class c {explode.format(acl='c.relacl')} "
        "WHERE c.oid = to_regclass(:t) AND a.grantee <> c.relowner",
        t=t,
    )
    got["column_grants"] = _acl(
        f"SELECT att.attname, {role}, a.privilege_type FROM pg_attribute att "
        f"{explode.format(acl='att.attacl')} "
        "WHERE att.attrelid = to_regclass(:t) AND att.attnum > 0 AND NOT att.attisdropped",
        t=t,
    )
    got["policies"] = _rows(
        "SELECT policyname, permissive, roles::text[], cmd, qual, with_check FROM pg_policies "
        "WHERE schemaname = current_schema() AND tablename = :t ORDER BY policyname",
        t=t,
    )
    got["triggers"] = [
        r[0]
        for r in _rows(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = to_regclass(:t) AND NOT tgisinternal ORDER BY tgname",
            t=t,
        )
    ]
    got["rls"] = _rows(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = to_regclass(:t)", t=t
    )[0]
    got["views"] = [
        (name, definition, _view_grants(str(name)))
        for name, definition in _rows(
            "SELECT DISTINCT v.relname, pg_get_viewdef(v.oid) FROM pg_depend d "
            "JOIN pg_rewrite rw ON rw.oid = d.objid JOIN pg_class v ON v.oid = rw.ev_class "
            "WHERE d.refobjid = to_regclass(:t) AND v.oid <> d.refobjid",
            t=t,
        )
    ]
    got["functions"] = [
        (sig, definition, public, _function_grants(str(sig)))
        for sig, definition, public in _rows(
            "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), p.proacl IS NULL "
            "FROM pg_proc p, pg_class c WHERE c.oid = to_regclass(:t) "
            "AND (c.reltype = ANY(p.proargtypes::oid[]) OR p.prorettype = c.reltype)",
            t=t,
        )
    ]
    got["sequences"] = _rows(
        "SELECT s.relname, att.attname FROM pg_depend d "
        "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
        "JOIN pg_attribute att ON att.attrelid = d.refobjid AND att.attnum = d.refobjsubid "
        "WHERE d.refobjid = to_regclass(:t) AND d.deptype = 'a'",
        t=t,
    )
    return got


def _view_grants(view: str) -> list[tuple[str, ...]]:
    return _acl(
        "SELECT coalesce(r.rolname, 'PUBLIC'), a.privilege_type FROM pg_class c "
        "CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE c.oid = to_regclass(:v) AND a.grantee <> c.relowner",
        v=view,
    )


def _function_grants(signature: str) -> list[tuple[str, ...]]:
    return _acl(
        "SELECT coalesce(r.rolname, 'PUBLIC'), a.privilege_type FROM pg_proc p "
        "CROSS JOIN LATERAL aclexplode(p.proacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE p.oid = CAST(:f AS regprocedure) AND a.grantee <> p.proowner",
        f=signature,
    )


def _rebuild(spec: PartitionedTable) -> None:
    bind = op.get_bind()
    t, old = spec.name, f"{spec.name}__unpartitioned"
    got = _capture(t)
    for name, _definition, _grants in got["views"]:
        op.execute(f"DROP VIEW {_q(name)}")
    for signature, *_rest in got["functions"]:
        op.execute(f"DROP FUNCTION {signature}")
    op.execute(f"ALTER TABLE {_q(t)} RENAME TO {_q(old)}")
    op.execute(
        f"CREATE TABLE {_q(t)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING STORAGE) PARTITION BY RANGE ({_q(spec.key)})"
    )
    low, high = bind.execute(sa.text(f"SELECT min({_q(spec.key)}), max({_q(spec.key)}) "
                                     f"FROM {_q(old)}")).one()  # fmt: skip
    now = server_month(bind)
    month = month_start(low.astimezone(UTC)) if low is not None else now
    newest = month_start(high.astimezone(UTC)) if high is not None else now
    last = max(add_months(now, MONTHS_AHEAD), newest)
    while month <= last:
        create_month(bind, spec, month)
        month = add_months(month, 1)
    create_default(bind, t)
    op.execute(f"INSERT INTO {_q(t)} SELECT * FROM {_q(old)}")
    for sequence, column in got["sequences"]:
        op.execute(f"ALTER SEQUENCE {_q(sequence)} OWNED BY {_q(t)}.{_q(column)}")
    op.execute(f"DROP TABLE {_q(old)}")
    for name, columns, unique in INDEXES[t]:
        if unique:
            op.execute(f"ALTER TABLE {_q(t)} ADD CONSTRAINT {_q(name)} PRIMARY KEY ({columns})")
        else:
            op.execute(f"CREATE INDEX {_q(name)} ON {_q(t)} ({columns})")
    _restore(t, got)


def _restore(t: str, got: dict[str, Any]) -> None:
    for definition in got["triggers"]:
        op.execute(definition)
    enabled, forced = got["rls"]
    if enabled:
        op.execute(f"ALTER TABLE {_q(t)} ENABLE ROW LEVEL SECURITY")
    if forced:
        op.execute(f"ALTER TABLE {_q(t)} FORCE ROW LEVEL SECURITY")
    for name, permissive, roles, cmd, qual, check in got["policies"]:
        to = ", ".join("PUBLIC" if r == "public" else _q(r) for r in roles)
        using = f" USING ({qual})" if qual is not None else ""
        with_check = f" WITH CHECK ({check})" if check is not None else ""
        op.execute(
            f"CREATE POLICY {_q(name)} ON {_q(t)} AS {permissive} FOR {cmd} TO {to}"
            f"{using}{with_check}"
        )
    for role, privilege in got["grants"]:
        op.execute(f"GRANT {privilege} ON {_q(t)} TO {_grantee(role)}")
    for column, role, privilege in got["column_grants"]:
        op.execute(f"GRANT {privilege} ({_q(column)}) ON {_q(t)} TO {_grantee(role)}")
    for name, definition, grants in got["views"]:
        op.execute(f"CREATE VIEW {_q(name)} AS {definition}")
        for role, privilege in grants:
            op.execute(f"GRANT {privilege} ON {_q(name)} TO {_grantee(role)}")
    for signature, definition, public, grants in got["functions"]:
        op.execute(definition)
        if not public:
            op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        for role, privilege in grants:
            op.execute(f"GRANT {privilege} ON FUNCTION {signature} TO {_grantee(role)}")


# Under REPEATABLE READ a writer would not see what a concurrent one committed
# while it waited for the lock: such a write is refused rather than let through.
_READ_COMMITTED = """
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION '% needs READ COMMITTED or SERIALIZABLE (ids unique across partitions)',
            TG_TABLE_NAME USING ERRCODE = '25001';
    END IF;
"""


def _uniqueness(definer: str) -> None:
    # The chain trigger (b0002) already refuses an event whose id is taken and a
    # kiosk's seq used twice (under the kiosk's lock); what partitions add is two
    # kiosks sending one id at once, so the id's lock is taken first, before any
    # trigger looks the id up.
    op.execute(
        f"""
        CREATE FUNCTION border_events_id_lock() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        BEGIN
            {_READ_COMMITTED}
            PERFORM pg_advisory_xact_lock(hashtext('egate.event'), hashtext(NEW.event_id::text));
            RETURN NEW;
        END $$
        """
    )
    # Row triggers fire in name order: this one before events_attest_guard,
    # events_chain and events_entry_conflict.
    op.execute(
        "CREATE TRIGGER events_0_id_lock BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION border_events_id_lock()"
    )
    op.execute(
        f"""
        CREATE FUNCTION border_referrals_unique() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        BEGIN
            {_READ_COMMITTED}
            PERFORM pg_advisory_xact_lock(hashtext('egate.referral'),
                                          hashtext(NEW.referral_id::text));
            IF EXISTS (SELECT 1 FROM referrals WHERE referral_id = NEW.referral_id) THEN
                RETURN NULL;  -- published already: skipped, as ON CONFLICT DO NOTHING did
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER referrals_unique_id BEFORE INSERT ON referrals "
        "FOR EACH ROW EXECUTE FUNCTION border_referrals_unique()"
    )
    op.execute(
        f"""
        CREATE FUNCTION border_officer_actions_unique() RETURNS trigger
        LANGUAGE plpgsql {definer} AS $$
        BEGIN
            {_READ_COMMITTED}
            PERFORM pg_advisory_xact_lock({OFFICER_LOG_LOCK});
            IF EXISTS (SELECT 1 FROM officer_actions WHERE action_id = NEW.action_id) THEN
                RAISE EXCEPTION 'officer action %: the id is taken', NEW.action_id
                    USING ERRCODE = '23505';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER officer_actions_unique_id BEFORE INSERT ON officer_actions "
        "FOR EACH ROW EXECUTE FUNCTION border_officer_actions_unique()"
    )
    for function in (
        "border_events_id_lock()",
        "border_referrals_unique()",
        "border_officer_actions_unique()",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")


# border_events_chain (b0002) finds a kiosk's head among its events. Once
# maintenance retires the month holding it (a kiosk out of service longer than
# the retention, or a head with an older finished_at than rows before it), the
# head is in kiosk_chain_heads only: the trigger reads both.
_HEAD_FROM_EVENTS = """SELECT log_seq, chain_hash INTO v_seq, v_expected FROM events
                WHERE kiosk_id = NEW.kiosk_id AND log_seq IS NOT NULL
                ORDER BY log_seq DESC LIMIT 1;"""
_HEAD_FROM_BOTH = """SELECT log_seq, chain_hash INTO v_seq, v_expected FROM (
                SELECT * FROM (SELECT log_seq, chain_hash FROM events
                    WHERE kiosk_id = NEW.kiosk_id AND log_seq IS NOT NULL
                    ORDER BY log_seq DESC LIMIT 1) newest
                UNION ALL
                SELECT log_seq, chain_hash FROM kiosk_chain_heads
                    WHERE kiosk_id = NEW.kiosk_id AND chain_hash IS NOT NULL) heads
                ORDER BY log_seq DESC LIMIT 1;"""


# A re-delivery went on to ON CONFLICT (event_id), which sees it only in the
# partition of the finished_at it claims: it is skipped in the trigger instead.
_REDELIVERY_ON = "RETURN NEW;  -- a re-delivery: ON CONFLICT (event_id) skips it"
_REDELIVERY_SKIP = "RETURN NULL;  -- a re-delivery (b0008p: skipped whatever its finished_at)"


def _amend_chain_trigger() -> None:
    definition = str(
        op.get_bind()
        .execute(sa.text("SELECT pg_get_functiondef('border_events_chain()'::regprocedure)"))
        .scalar_one()
    )
    if definition.count(_HEAD_FROM_EVENTS) != 1 or definition.count(_REDELIVERY_ON) != 1:
        raise RuntimeError("border_events_chain() is not the b0002 function this revision amends")
    definition = definition.replace(_HEAD_FROM_EVENTS, _HEAD_FROM_BOTH)
    op.execute(definition.replace(_REDELIVERY_ON, _REDELIVERY_SKIP))


def _entry_record_plan_kept(definer: str) -> None:
    """The exit lane's look-up as PL/pgSQL with a generic plan: planning the
    query over every month's partition cost more than running it (5 ms against
    under 1 ms with 17 partitions); a PL/pgSQL plan is kept for the session, and
    a generic plan loses nothing here (the predicate cannot prune partitions)."""
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION border_entry_record(p_document_number text,
                                                       p_issuing_state text)
        RETURNS TABLE (entered_at timestamptz, port varchar, permitted_until timestamptz,
                       basis varchar)
        LANGUAGE plpgsql STABLE {definer} SET plan_cache_mode = force_generic_plan AS $$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY SELECT e.entered_at, e.port, e.permitted_until, e.basis
                FROM entry_records e
                WHERE e.document_number = p_document_number
                  AND e.issuing_state = p_issuing_state;
        END $$
        """
    )


def _officer_anchor(definer: str) -> None:
    op.create_table(
        "officer_log_anchor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_officer_log_anchor_one"),
    )
    # The chain continues from the last retired link (zeros when none was).
    start = """
        SELECT chain_hash, seq INTO prev, after FROM officer_log_anchor WHERE id = 1;
        IF NOT FOUND THEN prev := repeat('0', 64); after := 0; END IF;
    """
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION border_officer_log_verify() RETURNS jsonb
        LANGUAGE plpgsql STABLE {definer} AS $$
        DECLARE a officer_actions; prev text; after bigint; n bigint := 0;
        BEGIN
            {start}
            FOR a IN SELECT * FROM officer_actions WHERE seq > after ORDER BY seq LOOP
                prev := border__action_mac(prev, a);
                IF prev <> a.chain_hash THEN
                    RETURN jsonb_build_object('valid', false, 'entries', n,
                                              'first_bad_seq', a.seq, 'action_id', a.action_id);
                END IF;
                n := n + 1;
            END LOOP;
            RETURN jsonb_build_object('valid', true, 'entries', n, 'first_bad_seq', NULL);
        END $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION border__rechain() RETURNS void
        LANGUAGE plpgsql {definer} AS $$
        DECLARE a officer_actions; prev text; after bigint;
        BEGIN
            {start}
            FOR a IN SELECT * FROM officer_actions WHERE seq > after ORDER BY seq LOOP
                prev := border__action_mac(prev, a);
                UPDATE officer_actions SET chain_hash = prev WHERE seq = a.seq;
            END LOOP;
        END $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION border__rechain() FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        raise NotImplementedError(
            "b0008p (monthly partitions) is one-way: restore the backup taken before upgrading"
        )
