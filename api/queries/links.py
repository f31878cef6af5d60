"""The model-technique link as a resource: `PUT`/`DELETE /models/{slug}/techniques/{technique}`."""

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.queries import details, search
from api.queries.common import role_expr, sources_of
from api.queries.writes import find_id, record
from models import tables as t
from models.base import utc_now
from models.writes import LinkWrite


def _ids(session: Session, model: str, technique: str) -> tuple[int, int]:
    model_id = find_id(session, "model", model)
    if model_id is None:
        raise NotFound("model", model, candidates=details.slugs(session, t.model))
    technique_id = find_id(session, "technique", technique)
    if technique_id is None:
        raise NotFound("technique", technique, candidates=details.slugs(session, t.technique))
    return model_id, technique_id


def get_link(session: Session, model: str, technique: str) -> dict[str, Any] | None:
    """The link with its derived role and its sources, or None when the model has no such link."""
    model_id, technique_id = _ids(session, model, technique)
    mt = t.model_technique
    row = session.execute(
        select(mt.c.relation, mt.c.evidence, mt.c.updated_at, role_expr().label("role"))
        .join(t.model, t.model.c.id == mt.c.model_id)
        .join(t.technique, t.technique.c.id == mt.c.technique_id)
        .where(mt.c.model_id == model_id, mt.c.technique_id == technique_id)
    ).first()
    if row is None:
        return None
    entries = sources_of(session, "model", [model_id]).get(model_id, [])
    return {
        "model": {"slug": model, "url": f"/models/{model}"},
        "technique": {"slug": technique, "url": f"/techniques/{technique}"},
        "relation": row.relation,
        "role": row.role,
        "evidence": row.evidence,
        "sources": [s for kind, oid, s in entries if kind == "technique" and oid == technique_id],
        "updated_at": row.updated_at,
    }


def put_link(
    session: Session, model: str, technique: str, body: LinkWrite, key: str
) -> tuple[dict[str, Any], bool]:
    """Create or replace the link and its API sources; returns it and whether it is new."""
    model_id, technique_id = _ids(session, model, technique)
    mt, now = t.model_technique, utc_now()
    values = {"relation": body.relation.value, "evidence": body.evidence}
    where = (mt.c.model_id == model_id, mt.c.technique_id == technique_id)
    exists = session.execute(select(mt.c.model_id).where(*where)).first() is not None
    if exists:
        session.execute(update(mt).where(*where).values(**values, updated_at=now, updated_by=key))
    else:
        session.execute(
            insert(mt).values(
                model_id=model_id, technique_id=technique_id, **values,
                created_at=now, updated_at=now, created_by=key, updated_by=key,
            )
        )  # fmt: skip
    src, origin = t.source, f"key:{key}"
    session.execute(
        delete(src).where(
            src.c.origin == origin, src.c.subject_kind == "model", src.c.subject_id == model_id,
            src.c.object_kind == "technique", src.c.object_id == technique_id,
        )
    )  # fmt: skip
    if body.sources:
        session.execute(
            insert(src),
            [
                {"subject_kind": "model", "subject_id": model_id, "predicate": body.relation.value,
                 "object_kind": "technique", "object_id": technique_id, "kind": "reference",
                 "reference": s.reference, "note": s.note, "origin": origin, "created_at": now}
                for s in body.sources
            ],
        )  # fmt: skip
    record(session, "model", model, "updated", key)
    search.reindex(session, "model", [model_id])
    link = get_link(session, model, technique)
    assert link is not None
    return link, not exists


def delete_link(session: Session, model: str, technique: str, key: str) -> None:
    """Remove the link and every source about it."""
    model_id, technique_id = _ids(session, model, technique)
    mt, src = t.model_technique, t.source
    gone = session.execute(
        delete(mt).where(mt.c.model_id == model_id, mt.c.technique_id == technique_id)
    )
    if gone.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("link", f"{model} -> {technique}")
    session.execute(
        delete(src).where(
            src.c.subject_kind == "model", src.c.subject_id == model_id,
            src.c.object_kind == "technique", src.c.object_id == technique_id,
        )
    )  # fmt: skip
    record(session, "model", model, "updated", key)
    search.reindex(session, "model", [model_id])
