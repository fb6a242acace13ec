"""Alembic environment: runs on the connection ``rag_service.db.upgrade`` passes in, or on the
URL of the config (``alembic -x`` use is not needed: ``rag-admin db upgrade`` does it)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from rag_service.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
