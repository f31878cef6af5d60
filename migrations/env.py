"""Alembic environment: the metadata of `models`, the URL from the caller or from Settings."""

from alembic import context
from sqlalchemy import Connection

import models
from api.db import make_engine
from api.settings import get_settings
from models.search import include_name

config = context.config
target_metadata = models.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_name=include_name,  # the full-text index objects are the migration's own
        # SQLite cannot ALTER most things; batch mode recreates tables. Harmless on PostgreSQL.
        render_as_batch=True,
        process_revision_directives=_skip_empty,
    )


def _skip_empty(context_: object, revision: object, directives: list) -> None:  # type: ignore[type-arg]
    script = directives[0]
    if config.cmd_opts is not None and getattr(config.cmd_opts, "autogenerate", False):
        if script.upgrade_ops.is_empty():
            directives[:] = []


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
