"""Answer cache: answers to repeated questions, keyed by their terms, with the question's vector

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_cache",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, index=True),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("citations_json", sa.Text, nullable=False),
        sa.Column("documents_json", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("created_at", sa.DateTime(timezone=True), index=True),
        sa.Column("last_hit_at", sa.DateTime(timezone=True), index=True),
        sa.Column("hits", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("answer_cache")
