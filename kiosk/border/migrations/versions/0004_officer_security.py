"""Border revision b0004o: officers act only through checked server-side functions.

- officers: the argon2id PHC column goes; the station derives argon2id(secret, salt)
  itself (kiosk.supervisor.secrets) and the border keeps only SHA-256 of that tag
  (`secret_check`) next to the salt and parameters, in columns no client role reads.
  Accounts created before this revision cannot be converted: they are disabled and
  need `egate officers add --replace`. A maintenance account needs a port.
- officer_sessions: sign-in tokens (SHA-256 only), ended by sign-out or inactivity.
- officer_policy: lockout and session limits the functions enforce (one row).
- officer_log_key, kiosk_command_keys: HMAC keys only the functions' owner reads.
- commands gain expires_at, two_officer and mac (HMAC-SHA256 with the kiosk's
  command key over the command's canonical fields: kiosk.supervisor.command_mac);
  a CHECK keeps the two officers of a command distinct.
- officer_actions.chain_hash becomes a keyed chain (HMAC with officer_log_key);
  existing rows are re-chained.
- PostgreSQL: border_officer_* SECURITY DEFINER functions with a pinned search_path
  (sign-in, sign-out, resolve, confirm, lane command, log verification).

Revision ID: b0004o
Revises: b0003
"""

import os

import sqlalchemy as sa
from alembic import op

revision = "b0004o"
down_revision = "b0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
# Admit commands expire: a kiosk refuses one older than this (kiosk clock).
COMMAND_TTL_S = 300
OFFICER_ID_RE = "^[A-Z0-9][A-Z0-9-]{0,31}$"


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("officers") as b:
        b.drop_column("secret_hash")
        b.add_column(sa.Column("secret_salt", sa.LargeBinary()))
        b.add_column(sa.Column("secret_params", sa.String(64)))
        b.add_column(sa.Column("secret_check", sa.LargeBinary()))
    op.execute("UPDATE officers SET disabled = TRUE")  # no secret left to check
    op.create_table(
        "officer_sessions",
        sa.Column("token_hash", sa.LargeBinary(), primary_key=True),
        sa.Column("officer_id", sa.String(32), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("last_used", TS, nullable=False),
        sa.Column("ended_at", TS),
    )
    op.create_table(
        "officer_policy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("max_failed", sa.Integer(), nullable=False),
        sa.Column("lockout_s", sa.Integer(), nullable=False),
        sa.Column("session_idle_s", sa.Integer(), nullable=False),
        sa.Column("command_ttl_s", sa.Integer(), nullable=False),
    )
    op.execute(
        "INSERT INTO officer_policy (id, max_failed, lockout_s, session_idle_s, command_ttl_s) "
        f"VALUES (1, 5, 900, 300, {COMMAND_TTL_S})"
    )
    op.create_table(
        "officer_log_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "kiosk_command_keys",
        sa.Column("kiosk_id", sa.String(64), primary_key=True),
        sa.Column("command_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    with op.batch_alter_table("commands") as b:
        b.add_column(sa.Column("expires_at", TS))
        b.add_column(
            sa.Column("two_officer", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        b.add_column(sa.Column("mac", sa.String(64)))
        b.create_check_constraint(
            "ck_commands_distinct_officers",
            "second_officer_id IS NULL OR second_officer_id <> officer_id",
        )
        b.create_check_constraint(
            "ck_commands_two_officer",
            "NOT two_officer OR (second_officer_id IS NOT NULL "
            "AND second_officer_id <> officer_id)",
        )
    if pg:
        _postgresql()
    else:
        op.get_bind().execute(
            sa.text("INSERT INTO officer_log_key (id, key) VALUES (1, :k)"), {"k": os.urandom(32)}
        )


def _postgresql() -> None:
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    q = bind.dialect.identifier_preparer.quote
    op.execute(f"CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA {q(schema)}")
    ext = bind.execute(
        sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pgcrypto'"
        )
    ).scalar_one()
    path = q(schema) if ext.strip('"') == schema else f"{q(schema)}, {ext}"
    op.execute("INSERT INTO officer_log_key (id, key) VALUES (1, gen_random_bytes(32))")
    op.execute(
        "ALTER TABLE officers ADD CONSTRAINT ck_officers_id "
        f"CHECK (officer_id ~ '{OFFICER_ID_RE}') NOT VALID"
    )
    op.execute(
        "ALTER TABLE officers ADD CONSTRAINT ck_officers_maintenance_port "
        "CHECK (role <> 'maintenance' OR port IS NOT NULL OR disabled)"
    )
    for table in ("officer_sessions", "officer_policy", "officer_log_key", "kiosk_command_keys"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM PUBLIC")
    for sql in _FUNCTIONS:
        op.execute(sql.replace("@PATH@", path))
    op.execute("SELECT border__rechain()")
    for signature in _SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")


_ACTION_CANON = """
    jsonb_build_array('egate-action-v1', a.action_id::text, a.kind, a.kiosk_id, a.officer_id,
        coalesce(a.second_officer_id, ''), a.reason_code, a.reason_text,
        (extract(epoch FROM a.at) * 1000000)::bigint::text,
        coalesce(a.referral_id::text, ''), a.detail::jsonb)::text
"""

_FUNCTIONS = [
    # The keyed chain link of one action row after `prev`.
    f"""
    CREATE FUNCTION border__action_mac(prev text, a officer_actions) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
        SELECT encode(hmac(convert_to(prev || {_ACTION_CANON}, 'UTF8'),
                           (SELECT key FROM officer_log_key WHERE id = 1), 'sha256'), 'hex')
    $$
    """,
    """
    CREATE FUNCTION border__rechain() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE a officer_actions; prev text := repeat('0', 64);
    BEGIN
        FOR a IN SELECT * FROM officer_actions ORDER BY seq LOOP
            prev := border__action_mac(prev, a);
            UPDATE officer_actions SET chain_hash = prev WHERE seq = a.seq;
        END LOOP;
    END $$
    """,
    # Append one action to the keyed chain (one writer at a time).
    """
    CREATE FUNCTION border__log(p_kind text, p_kiosk text, p_officer text, p_second text,
        p_reason text, p_text text, p_referral uuid, p_detail jsonb) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE a officer_actions; prev text;
    BEGIN
        PERFORM pg_advisory_xact_lock(1701273972);
        SELECT chain_hash INTO prev FROM officer_actions ORDER BY seq DESC LIMIT 1;
        a.action_id := gen_random_uuid(); a.kind := p_kind; a.kiosk_id := p_kiosk;
        a.officer_id := left(p_officer, 32); a.second_officer_id := p_second;
        a.reason_code := left(p_reason, 32); a.reason_text := p_text;
        a.at := date_trunc('milliseconds', clock_timestamp());
        a.referral_id := p_referral; a.detail := coalesce(p_detail, '{}'::jsonb);
        INSERT INTO officer_actions (action_id, kind, referral_id, kiosk_id, officer_id,
            second_officer_id, reason_code, reason_text, at, detail, chain_hash)
        VALUES (a.action_id, a.kind, a.referral_id, a.kiosk_id, a.officer_id,
            a.second_officer_id, a.reason_code, a.reason_text, a.at, a.detail,
            border__action_mac(coalesce(prev, repeat('0', 64)), a));
        RETURN a.action_id;
    END $$
    """,
    """
    CREATE FUNCTION border_officer_log_verify() RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE a officer_actions; prev text := repeat('0', 64); n bigint := 0;
    BEGIN
        FOR a IN SELECT * FROM officer_actions ORDER BY seq LOOP
            prev := border__action_mac(prev, a);
            IF prev <> a.chain_hash THEN
                RETURN jsonb_build_object('valid', false, 'entries', n, 'first_bad_seq', a.seq,
                                          'action_id', a.action_id);
            END IF;
            n := n + 1;
        END LOOP;
        RETURN jsonb_build_object('valid', true, 'entries', n, 'first_bad_seq', NULL);
    END $$
    """,
    # Salt and parameters for deriving an officer's proof; an unknown id gets a
    # stable made-up salt, so the answer does not tell which ids exist.
    """
    CREATE FUNCTION border_officer_challenge(p_officer text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE o officers;
    BEGIN
        SELECT * INTO o FROM officers WHERE officer_id = p_officer;
        IF o.secret_salt IS NULL THEN
            RETURN jsonb_build_object('salt', encode(substring(hmac(convert_to(
                coalesce(p_officer, ''), 'UTF8'), (SELECT key FROM officer_log_key WHERE id = 1),
                'sha256') FROM 1 FOR 16), 'hex'), 'params', 'argon2id$v=19$m=65536,t=3,p=4');
        END IF;
        RETURN jsonb_build_object('salt', encode(o.secret_salt, 'hex'), 'params', o.secret_params);
    END $$
    """,
    # Checks one officer's proof with the failure count held under the row lock, so
    # parallel attempts cannot lose failures. Returns NULL or a refusal code.
    """
    CREATE FUNCTION border__check_secret(p_officer text, p_proof bytea) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE o officers; pol officer_policy; fails int;
    BEGIN
        SELECT * INTO pol FROM officer_policy WHERE id = 1;
        SELECT * INTO o FROM officers WHERE officer_id = p_officer FOR UPDATE;
        IF NOT FOUND THEN RETURN 'invalid_credentials'; END IF;
        IF o.disabled THEN RETURN 'disabled'; END IF;
        IF o.locked_until IS NOT NULL AND o.locked_until > clock_timestamp() THEN
            RETURN 'locked';
        END IF;
        IF o.secret_check IS NOT NULL AND p_proof IS NOT NULL
           AND digest(p_proof, 'sha256') = o.secret_check THEN
            UPDATE officers SET failed_attempts = 0, locked_until = NULL,
                last_sign_in = clock_timestamp() WHERE officer_id = o.officer_id;
            RETURN NULL;
        END IF;
        fails := o.failed_attempts + 1;
        IF fails >= pol.max_failed THEN
            UPDATE officers SET failed_attempts = fails,
                locked_until = clock_timestamp() + make_interval(secs => pol.lockout_s)
            WHERE officer_id = o.officer_id;
            RETURN 'locked';
        END IF;
        UPDATE officers SET failed_attempts = fails WHERE officer_id = o.officer_id;
        RETURN 'invalid_credentials';
    END $$
    """,
    """
    CREATE FUNCTION border_officer_sign_in(p_officer text, p_proof bytea) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE code text; o officers; token bytea;
    BEGIN
        code := border__check_secret(p_officer, p_proof);
        IF code IS NOT NULL THEN
            PERFORM border__log('sign_in_refused', '-', coalesce(nullif(p_officer, ''), '-'),
                                NULL, code, '', NULL, '{}');
            RETURN jsonb_build_object('ok', false, 'code', code);
        END IF;
        SELECT * INTO o FROM officers WHERE officer_id = p_officer;
        token := gen_random_bytes(32);
        INSERT INTO officer_sessions (token_hash, officer_id, started_at, last_used)
        VALUES (digest(token, 'sha256'), o.officer_id, clock_timestamp(), clock_timestamp());
        PERFORM border__log('sign_in', '-', o.officer_id, NULL, 'sign_in', '', NULL, '{}');
        RETURN jsonb_build_object('ok', true, 'token', encode(token, 'hex'),
            'officer_id', o.officer_id, 'name', o.name, 'role', o.role, 'port', o.port);
    END $$
    """,
    # The session's officer, still enabled, within the idle limit; NULL otherwise.
    """
    CREATE FUNCTION border__session(p_token bytea) RETURNS officers
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE s officer_sessions; o officers; pol officer_policy;
    BEGIN
        SELECT * INTO pol FROM officer_policy WHERE id = 1;
        SELECT * INTO s FROM officer_sessions
        WHERE token_hash = digest(p_token, 'sha256') AND ended_at IS NULL FOR UPDATE;
        IF NOT FOUND THEN RETURN NULL; END IF;
        IF s.last_used < clock_timestamp() - make_interval(secs => pol.session_idle_s) THEN
            UPDATE officer_sessions SET ended_at = clock_timestamp()
            WHERE token_hash = s.token_hash;
            RETURN NULL;
        END IF;
        SELECT * INTO o FROM officers WHERE officer_id = s.officer_id;
        IF o.disabled THEN RETURN NULL; END IF;
        UPDATE officer_sessions SET last_used = clock_timestamp() WHERE token_hash = s.token_hash;
        RETURN o;
    END $$
    """,
    """
    CREATE FUNCTION border_officer_sign_out(p_token bytea, p_why text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE s officer_sessions;
    BEGIN
        UPDATE officer_sessions SET ended_at = clock_timestamp()
        WHERE token_hash = digest(p_token, 'sha256') AND ended_at IS NULL RETURNING * INTO s;
        IF FOUND THEN
            PERFORM border__log('sign_out', '-', s.officer_id, NULL, left(p_why, 32), '',
                                NULL, '{}');
        END IF;
        RETURN jsonb_build_object('ok', true);
    END $$
    """,
    # Issue one command: HMAC with the kiosk's key over the canonical fields (the
    # same text kiosk.supervisor.command_mac.canonical builds), logged with it.
    """
    CREATE FUNCTION border__issue(p_kiosk text, p_kind text, p_referral uuid, p_officer text,
        p_second text, p_reason text, p_text text, p_two boolean) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE k bytea; cid uuid := gen_random_uuid(); issued timestamptz; expires timestamptz;
            canon text; mac text; aid uuid; pol officer_policy;
    BEGIN
        SELECT * INTO pol FROM officer_policy WHERE id = 1;
        SELECT command_key INTO k FROM kiosk_command_keys WHERE kiosk_id = p_kiosk;
        IF k IS NULL THEN
            RETURN jsonb_build_object('ok', false, 'code', 'kiosk_not_enrolled');
        END IF;
        issued := date_trunc('milliseconds', clock_timestamp());
        expires := issued + make_interval(secs => pol.command_ttl_s);
        canon := concat_ws(E'\\n', 'egate-command-v1', cid::text, p_kiosk, p_kind,
            coalesce(p_referral::text, ''), p_officer, coalesce(p_second, ''), p_reason,
            (extract(epoch FROM issued) * 1000000)::bigint::text,
            (extract(epoch FROM expires) * 1000000)::bigint::text);
        mac := encode(hmac(convert_to(canon, 'UTF8'), k, 'sha256'), 'hex');
        aid := border__log(p_kind, p_kiosk, p_officer, p_second, p_reason, p_text, p_referral,
                           jsonb_build_object('command_id', cid::text, 'mac', mac));
        INSERT INTO commands (command_id, kiosk_id, kind, referral_id, officer_id,
            second_officer_id, reason_code, reason_text, issued_at, expires_at, two_officer, mac)
        VALUES (cid, p_kiosk, p_kind, p_referral, p_officer, p_second, p_reason, p_text,
            issued, expires, p_two, mac);
        RETURN jsonb_build_object('ok', true, 'status', 'issued', 'action_id', aid::text,
                                  'command_id', cid::text);
    END $$
    """,
    """
    CREATE FUNCTION border_officer_resolve(p_token bytea, p_referral uuid, p_action text,
        p_reason text, p_text text) RETURNS jsonb
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
        two := r.watchlist OR r.reasons::jsonb ? 'chip_not_genuine';
        IF p_action = 'admit' AND two THEN
            aid := border__log('admit_requested', r.kiosk_id, o.officer_id, NULL, p_reason,
                               p_text, r.referral_id, '{}');
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
    # The second officer of a two-officer admit proves their own secret and must not
    # be the officer who requested it.
    """
    CREATE FUNCTION border_officer_confirm(p_token bytea, p_referral uuid, p_second text,
        p_proof bytea) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE o officers; s officers; r referrals; req officer_actions; code text; res jsonb;
    BEGIN
        o := border__session(p_token);
        IF o.officer_id IS NULL THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_signed_in');
        END IF;
        IF o.role NOT IN ('officer', 'supervisor') THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_permitted');
        END IF;
        SELECT * INTO r FROM referrals WHERE referral_id = p_referral FOR UPDATE;
        IF NOT FOUND OR (o.port IS NOT NULL AND r.port <> o.port) THEN
            RETURN jsonb_build_object('ok', false, 'code', 'unknown_referral');
        END IF;
        IF r.status <> 'awaiting_second' THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_open', 'status', r.status);
        END IF;
        SELECT * INTO req FROM officer_actions
        WHERE referral_id = r.referral_id AND kind = 'admit_requested' ORDER BY seq DESC LIMIT 1;
        IF req.officer_id IS NULL THEN
            RETURN jsonb_build_object('ok', false, 'code', 'nothing_to_confirm');
        END IF;
        IF p_second = req.officer_id THEN
            RETURN jsonb_build_object('ok', false, 'code', 'same_officer');
        END IF;
        code := border__check_secret(p_second, p_proof);
        IF code IS NOT NULL THEN
            PERFORM border__log('confirm_refused', r.kiosk_id, left(coalesce(p_second, '-'), 32),
                                NULL, code, '', r.referral_id, '{}');
            RETURN jsonb_build_object('ok', false, 'code', code);
        END IF;
        SELECT * INTO s FROM officers WHERE officer_id = p_second;
        IF s.role NOT IN ('officer', 'supervisor') OR (s.port IS NOT NULL AND s.port <> r.port)
        THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_permitted');
        END IF;
        res := border__issue(r.kiosk_id, 'admit', r.referral_id, req.officer_id, s.officer_id,
                             req.reason_code, req.reason_text, true);
        IF (res->>'ok')::boolean THEN
            UPDATE referrals SET status = 'resolved', resolved_at = clock_timestamp(),
                resolution = 'admit' WHERE referral_id = r.referral_id;
        END IF;
        RETURN res;
    END $$
    """,
    """
    CREATE FUNCTION border_officer_lane_command(p_token bytea, p_kiosk text, p_kind text,
        p_reason text, p_text text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = @PATH@, pg_temp AS $$
    DECLARE o officers; ks kiosk_status;
    BEGIN
        o := border__session(p_token);
        IF o.officer_id IS NULL THEN
            RETURN jsonb_build_object('ok', false, 'code', 'not_signed_in');
        END IF;
        IF p_kind NOT IN ('reset', 'close', 'open') OR coalesce(p_reason, '') = '' THEN
            RETURN jsonb_build_object('ok', false, 'code', 'invalid_action');
        END IF;
        SELECT * INTO ks FROM kiosk_status WHERE kiosk_id = p_kiosk;
        IF NOT FOUND OR (o.port IS NOT NULL AND ks.port <> o.port)
           OR (o.role = 'maintenance' AND o.port IS NULL) THEN
            RETURN jsonb_build_object('ok', false, 'code', 'unknown_kiosk');
        END IF;
        RETURN border__issue(p_kiosk, p_kind, NULL, o.officer_id, NULL, p_reason, p_text, false);
    END $$
    """,
]

_SIGNATURES = [
    "border__action_mac(text, officer_actions)",
    "border__rechain()",
    "border__log(text, text, text, text, text, text, uuid, jsonb)",
    "border_officer_log_verify()",
    "border_officer_challenge(text)",
    "border__check_secret(text, bytea)",
    "border_officer_sign_in(text, bytea)",
    "border__session(bytea)",
    "border_officer_sign_out(bytea, text)",
    "border__issue(text, text, uuid, text, text, text, text, boolean)",
    "border_officer_resolve(bytea, uuid, text, text, text)",
    "border_officer_confirm(bytea, uuid, text, bytea)",
    "border_officer_lane_command(bytea, text, text, text, text)",
]
# What the supervisor role may call (kiosk.border.station_roles grants these).
STATION_FUNCTIONS = [s for s in _SIGNATURES if s.startswith("border_officer_")]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for signature in reversed(_SIGNATURES):
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
        op.execute("ALTER TABLE officers DROP CONSTRAINT IF EXISTS ck_officers_id")
        op.execute("ALTER TABLE officers DROP CONSTRAINT IF EXISTS ck_officers_maintenance_port")
    with op.batch_alter_table("commands") as b:
        b.drop_constraint("ck_commands_two_officer", type_="check")
        b.drop_constraint("ck_commands_distinct_officers", type_="check")
        b.drop_column("mac")
        b.drop_column("two_officer")
        b.drop_column("expires_at")
    for name in ("kiosk_command_keys", "officer_log_key", "officer_policy", "officer_sessions"):
        op.drop_table(name)
    with op.batch_alter_table("officers") as b:
        b.drop_column("secret_check")
        b.drop_column("secret_params")
        b.drop_column("secret_salt")
        b.add_column(sa.Column("secret_hash", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE officers SET disabled = TRUE")
