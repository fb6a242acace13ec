"""conversations and messages (the first release's schema)

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(128), index=True),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True),
        sa.Column("role", sa.String(16)),
        sa.Column("content", sa.Text),
        sa.Column("answer_id", sa.String(64), index=True),
        sa.Column("action", sa.String(16)),
        sa.Column("reason", sa.String(64)),
        sa.Column("language", sa.String(8)),
        sa.Column("citations_json", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("conversations")
