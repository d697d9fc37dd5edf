"""indexes for scan analytics

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 02:00:00

Scan analytics count scans per batch, kind (first or repeat) and day, and per
coarse place: ranges of these two indexes, read without touching the table. The
first replaces (batch_id, scanned_at), whose queries it serves as well.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_scan_log_batch_first_at", "scan_log", ["batch_id", "first_for_device", "scanned_at"]
    )
    op.create_index("ix_scan_log_place_at", "scan_log", ["place", "scanned_at", "batch_id"])
    op.drop_index("ix_scan_log_batch_at", table_name="scan_log")


def downgrade() -> None:
    op.create_index("ix_scan_log_batch_at", "scan_log", ["batch_id", "scanned_at"])
    op.drop_index("ix_scan_log_place_at", table_name="scan_log")
    op.drop_index("ix_scan_log_batch_first_at", table_name="scan_log")
