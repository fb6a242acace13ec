"""customers, handoffs, feedback and agent drafts

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("language", sa.String(8)),
        sa.Column("plan", sa.String(200)),
        sa.Column("notes", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True),
        sa.Column("customer_id", sa.String(128), index=True),
        sa.Column("answer_id", sa.String(64)),
        sa.Column("reason", sa.String(64)),
        sa.Column("language", sa.String(8)),
        sa.Column("summary", sa.Text),
        sa.Column("transcript_json", sa.Text),
        sa.Column("status", sa.String(16), index=True),
        sa.Column("claimed_by", sa.String(128)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("webhook_delivered", sa.Boolean),
        sa.Column("created_at", sa.DateTime(timezone=True), index=True),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("answer_id", sa.String(64), index=True),
        sa.Column("rating", sa.String(8)),
        sa.Column("comment", sa.Text),
        sa.Column("source", sa.String(16)),
        sa.Column("created_at", sa.DateTime(timezone=True), index=True),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(128), index=True),
        sa.Column("ticket_json", sa.Text),
        sa.Column("language", sa.String(8)),
        sa.Column("draft", sa.Text),
        sa.Column("summary", sa.Text),
        sa.Column("suggested_action", sa.String(32)),
        sa.Column("citations_json", sa.Text),
        sa.Column("outcome", sa.String(16)),
        sa.Column("final_text", sa.Text),
        sa.Column("outcome_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), index=True),
    )


def downgrade() -> None:
    for table in ("drafts", "feedback", "handoffs", "customers"):
        op.drop_table(table)
