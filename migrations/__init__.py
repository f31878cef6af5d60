"""The schema's migrations (Alembic). `HEAD` names the newest one, so that a server whose
database is current can tell without loading Alembic; tests/test_migrations.py keeps it true."""

HEAD = "4b7b501a3b82"
