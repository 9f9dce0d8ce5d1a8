"""Border database: events, reference data, advance passenger information,
kiosk role mapping, the entry_records view; on PostgreSQL also row-level
security on events and the SECURITY DEFINER helper functions.

Revision ID: b0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "b0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)

# Latest admitted entry per document: what an exit lane checks for overstay.
ENTRY_RECORDS_VIEW = """
CREATE VIEW entry_records AS
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
    op.create_table(
        "events",
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("port", sa.String(3), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(8)),
        sa.Column("basis", sa.String(32)),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("policy_pack", sa.String(64)),
        sa.Column("policy_version", sa.String(32)),
        sa.Column("document", JSON, nullable=False),
        sa.Column("document_number", sa.String(40)),
        sa.Column("issuing_state", sa.String(3)),
        sa.Column("nationality", sa.String(3)),
        sa.Column("checks", JSON, nullable=False),
        sa.Column("stages", JSON, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("permitted_until", TS),
        sa.Column("transaction_ms", sa.Float()),
        sa.Column("error", sa.Text()),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.Column("received_at", TS, nullable=False, server_default=sa.func.current_timestamp()),
    )
    op.create_index(
        "ix_events_document", "events", ["document_number", "issuing_state", "direction", "outcome"]
    )
    op.create_index("ix_events_kiosk_finished", "events", ["kiosk_id", "finished_at"])
    op.create_table(
        "reference_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("withdrawn_at", TS),
        sa.UniqueConstraint("kind", "key", name="uq_border_reference_kind_key"),
    )
    op.create_table(
        "advance_passenger_info",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document_number", sa.String(40), nullable=False),
        sa.Column("issuing_state", sa.String(3), nullable=False),
        sa.Column("flight_date", sa.Date(), nullable=False),
        sa.Column("flight", sa.String(8)),
        sa.Column("arrived_from", sa.String(3)),
        sa.Column("destination", sa.String(3)),
        sa.Column("departure_time", TS),
        sa.Column("departure_port", sa.String(3)),
        sa.Column("onward_flight", sa.String(8)),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.current_timestamp()),
    )
    op.create_index(
        "ix_api_document_date",
        "advance_passenger_info",
        ["document_number", "issuing_state", "flight_date"],
    )
    op.create_table(
        "kiosk_roles",
        sa.Column("role_name", sa.String(63), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
    )
    op.execute(ENTRY_RECORDS_VIEW)
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_security()


def _postgresql_security() -> None:
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    path = bind.dialect.identifier_preparer.quote(schema)
    # SECURITY DEFINER functions pin their search path so a caller cannot
    # shadow the tables with objects of their own (pg_temp last).
    op.execute(
        f"""
        CREATE FUNCTION border_kiosk_id(p_role text) RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path}, pg_temp AS $$
            SELECT kiosk_id FROM kiosk_roles WHERE role_name = p_role
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION border_entry_record(p_document_number text, p_issuing_state text)
        RETURNS TABLE (entered_at timestamptz, port varchar, permitted_until timestamptz,
                       basis varchar)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path}, pg_temp AS $$
            SELECT entered_at, port, permitted_until, basis FROM entry_records
            WHERE document_number = p_document_number AND issuing_state = p_issuing_state
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION border_entry_record(text, text) FROM PUBLIC")
    # A kiosk sees and writes only rows of the kiosk id its login role maps to.
    # Table owners bypass RLS; supervisor stations get their own policy when
    # `egate border init` provisions the roles.
    op.execute("ALTER TABLE events ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY events_kiosk_insert ON events FOR INSERT "
        "WITH CHECK (kiosk_id = border_kiosk_id(current_user::text))"
    )
    op.execute(
        "CREATE POLICY events_kiosk_select ON events FOR SELECT "
        "USING (kiosk_id = border_kiosk_id(current_user::text))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS border_entry_record(text, text)")
    op.execute("DROP VIEW IF EXISTS entry_records")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS events_kiosk_insert ON events")
        op.execute("DROP POLICY IF EXISTS events_kiosk_select ON events")
        op.execute("DROP FUNCTION IF EXISTS border_kiosk_id(text)")
    for name in ("kiosk_roles", "advance_passenger_info", "reference_items", "events"):
        op.drop_table(name)
