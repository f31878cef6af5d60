"""Shared pieces of every table: constraint names, timestamps and the small vocabularies."""

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import DateTime, MetaData
from sqlmodel import Field, SQLModel

# Named constraints let Alembic's batch mode drop and recreate them on SQLite.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX = 80


def utc_now() -> datetime:
    return datetime.now(UTC)


class TimestampMixin(SQLModel):
    created_at: datetime = Field(
        default_factory=utc_now, sa_type=DateTime(timezone=True), nullable=False
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=DateTime(timezone=True), nullable=False
    )


class DatePrecision(StrEnum):
    day = "day"
    month = "month"
    year = "year"


class LabKind(StrEnum):
    industry = "industry"
    academic = "academic"
    nonprofit = "nonprofit"


class TechniqueCategory(StrEnum):
    attention = "attention"
    architecture = "architecture"
    training = "training"
    alignment = "alignment"
    efficiency = "efficiency"
    data = "data"
    inference = "inference"


class Derivation(StrEnum):
    successor = "successor"
    architecture = "architecture"
    weights = "weights"
    distilled = "distilled"


class LinkRelation(StrEnum):
    uses = "uses"
    does_not_use = "does_not_use"


class EntityKind(StrEnum):
    lab = "lab"
    paper = "paper"
    model = "model"
    technique = "technique"


def in_values(column: str, enum: type[StrEnum]) -> str:
    """A CHECK keeping a text column inside an enum's values (portable: no database enum type)."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


def reduced_iso(value: date | None, precision: str | None) -> str | None:
    """ISO 8601 at the precision we know: '2023', '2023-07' or '2023-07-18'."""
    if value is None:
        return None
    if precision == DatePrecision.year:
        return f"{value.year:04d}"
    if precision == DatePrecision.month:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def parse_reduced_date(text: str) -> tuple[date, DatePrecision]:
    """'2023' -> (2023-01-01, year); '2023-07' -> (2023-07-01, month); '2023-07-18' -> day."""
    parts = text.strip().split("-")
    if len(parts) == 1 and len(parts[0]) == 4:
        return date(int(parts[0]), 1, 1), DatePrecision.year
    if len(parts) == 2 and len(parts[0]) == 4 and len(parts[1]) == 2:
        return date(int(parts[0]), int(parts[1]), 1), DatePrecision.month
    if len(parts) == 3:
        return date.fromisoformat(text.strip()), DatePrecision.day
    raise ValueError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
