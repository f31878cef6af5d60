"""Migrations are the only way the schema is made: they go up, down and up, and match the models."""

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import models
from api import migrate
from models.search import include_name


def test_upgrade_downgrade_upgrade(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    assert {"lab", "paper", "model", "technique", "source"} <= set(
        inspect(empty_engine).get_table_names()
    )
    migrate.downgrade(empty_engine, "base")
    assert migrate.current_revision(empty_engine) is None
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def test_head_names_the_newest_script(empty_engine: Engine) -> None:
    assert migrate.head_revision() == migrate.script_head(empty_engine)


def test_upgrade_at_head_does_not_load_alembic(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    code = (
        "import sys; from api import migrate; from api.db import make_engine; "
        f"migrate.upgrade(make_engine({str(empty_engine.url.render_as_string(False))!r})); "
        "print('alembic' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False"


def test_models_and_migrations_agree(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, models.metadata)
    assert diff == []
