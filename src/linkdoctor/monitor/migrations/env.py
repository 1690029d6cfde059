"""Alembic environment: runs the packaged migrations against the engine the service passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from linkdoctor.monitor.db import include_object
from linkdoctor.monitor.orm import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):  # pragma: no cover - only the service runs these migrations
    raise RuntimeError("linkdoctor migrations run through linkdoctor.monitor.db.upgrade(engine)")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
