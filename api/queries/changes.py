"""The change feed: what was created, updated or deleted after a data version."""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import RowMapping

from api.listing import Collection
from models import tables as t


def change_select() -> Select[Any]:
    return select(t.change)


def change_item(row: RowMapping) -> dict[str, Any]:
    kind, slug = row["kind"], row["slug"]
    plural = {"lab": "labs", "paper": "papers", "model": "models", "technique": "techniques"}
    return {
        "version": row["version"],
        "kind": kind,
        "slug": slug,
        "operation": row["operation"],
        "at": row["at"],
        "key": row["key_name"],
        "url": f"/{plural[kind]}/{slug}" if row["operation"] != "deleted" else None,
    }


CHANGES = Collection(
    kind="change",
    base=change_select,
    sorts={"version": t.change.c.version},
    default_sort="version",
    tiebreak=("id", t.change.c.id),
    item=change_item,
    id_column=t.change.c.id,
)
