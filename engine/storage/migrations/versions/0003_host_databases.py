"""host databases: a source's own host URL, events moved from a host's capture table

A record source may live in a database that is not StatusFlow's own (a MariaDB or
MySQL order system). Its URL is stored without a password. Trigger capture there
writes into a small capture table in the host database; each event moved from it
remembers the capture row's id, so moving a row twice cannot make two events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sf_record_sources",
        sa.Column(
            "host_url",
            sa.String(length=500),
            nullable=True,
            comment="the host database when it is not StatusFlow's own; never with a password",
        ),
    )
    op.add_column(
        "sf_status_events",
        sa.Column(
            "capture_id",
            sa.BigInteger(),
            nullable=True,
            comment="a host's capture row this event was moved from",
        ),
    )
    op.create_index(
        "ux_sf_status_events_capture",
        "sf_status_events",
        ["source_id", "capture_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_sf_status_events_capture", table_name="sf_status_events")
    op.drop_column("sf_status_events", "capture_id")
    op.drop_column("sf_record_sources", "host_url")
