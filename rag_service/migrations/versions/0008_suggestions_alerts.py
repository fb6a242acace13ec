"""Suggested article changes (the knowledge base learns from agents) and proactive alerts

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("topic", sa.String(300), nullable=True))
        batch.add_column(sa.Column("sentiment", sa.String(16), nullable=True))
    op.create_index("ix_messages_created_at_topic", "messages", ["created_at", "topic"])
    op.create_table(
        "kb_suggestions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(128), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("questions_json", sa.Text, nullable=False),
        sa.Column("asked", sa.Integer, nullable=False),
        sa.Column("missing", sa.Text, nullable=False),
        sa.Column("wording", sa.Text),
        sa.Column("target_doc", sa.String(300)),
        sa.Column("proposed", sa.Text, nullable=False),
        sa.Column("sources_json", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("doc_id", sa.String(300)),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(300), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("usual", sa.Float, nullable=False),
        sa.Column("examples_json", sa.Text, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("webhook_delivered", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("kb_suggestions")
    op.drop_index("ix_messages_created_at_topic", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sentiment")
        batch.drop_column("topic")
