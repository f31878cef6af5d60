"""Who may write, and what was written: API keys and the change feed."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer
from sqlmodel import Field, SQLModel

from models.base import utc_now


class ApiKey(SQLModel, table=True):
    """A write key made by `paperkg keys create`: only a salted hash of the secret is kept."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True, index=True)
    salt: str = Field(max_length=64)
    secret_hash: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class Change(SQLModel, table=True):
    """One created, updated or deleted entity, at the data version its write produced."""

    __tablename__ = "change"
    __table_args__ = (
        CheckConstraint("operation IN ('created', 'updated', 'deleted')", name="operation"),
        Index("ix_change_version_id", "version", "id"),
    )

    # BIGINT on PostgreSQL; INTEGER on SQLite, where only that spelling is the rowid.
    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    version: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=20)
    slug: str = Field(max_length=120)
    operation: str = Field(max_length=10)
    key_name: str | None = Field(default=None, max_length=80)
    at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
