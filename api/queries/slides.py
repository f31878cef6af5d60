"""Decks and slides: the sources themselves."""

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import RowMapping

from api.db import Db
from api.errors import NotFound
from api.listing import Collection, Group
from api.queries.details import links_of
from models import tables as t

KIND_ORDER = {"lab": 0, "model": 1, "paper": 2, "technique": 3}


def slide_select() -> Select[Any]:
    sl = t.slide
    return select(sl.c.id, sl.c.number, sl.c.title, t.deck.c.slug.label("deck")).join(
        t.deck, t.deck.c.id == sl.c.deck_id
    )


def slide_item(row: RowMapping) -> dict[str, Any]:
    return {
        "deck": row["deck"],
        "number": row["number"],
        "title": row["title"],
        "url": f"/decks/{row['deck']}/slides/{row['number']}",
    }


SLIDES = Collection(
    kind="slide",
    base=slide_select,
    sorts={"number": t.slide.c.number, "deck": t.deck.c.slug},
    default_sort="deck,number",
    tiebreak=("id", t.slide.c.id),
    item=slide_item,
    id_column=t.slide.c.id,
    groups={"deck": Group(t.deck.c.slug, t.deck.c.title)},
)


def first_deck(db: Db) -> str:
    """The deck `/slides/{number}` means: the first one loaded (the chapter's own deck)."""
    slug = db.execute(select(t.deck.c.slug).order_by(t.deck.c.id).limit(1)).scalar()
    if slug is None:
        raise NotFound("deck", "(none loaded)")
    return str(slug)


def get_slide(db: Db, deck: str, number: int) -> dict[str, Any]:
    """One slide: its markdown, its structured items, the entities it mentions, its neighbours."""
    sl = t.slide
    row = (
        db.execute(
            select(sl, t.deck.c.slug.label("deck"), t.deck.c.title.label("deck_title"))
            .join(t.deck, t.deck.c.id == sl.c.deck_id)
            .where(t.deck.c.slug == deck, sl.c.number == number)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("slide", f"{deck}/{number}")
    si, sm = t.slide_item, t.slide_mention
    items = db.execute(
        select(si.c.kind, si.c.text, si.c.url, si.c.detail)
        .where(si.c.slide_id == row["id"])
        .order_by(si.c.position)
    ).mappings()
    mentioned = select(sm.c.entity_kind, sm.c.entity_id).where(sm.c.slide_id == row["id"])
    refs = [(kind, entity_id) for kind, entity_id in db.execute(mentioned)]
    names = links_of(db, refs)
    mentions = sorted(names.values(), key=lambda m: (KIND_ORDER[m["kind"]], m["slug"]))
    count = db.execute(select(func.max(sl.c.number)).where(sl.c.deck_id == row["deck_id"]))
    last = count.scalar() or number
    base = f"/decks/{deck}/slides"
    return {
        "deck": {"slug": deck, "title": row["deck_title"], "url": f"/decks/{deck}"},
        "number": number,
        "title": row["title"],
        "url": f"{base}/{number}",
        "body": row["body"],
        "items": [dict(item) for item in items],
        "mentions": mentions,
        "previous": f"{base}/{number - 1}" if number > 1 else None,
        "next": f"{base}/{number + 1}" if number < last else None,
    }


def get_first_deck_slide(db: Db, number: int) -> dict[str, Any]:
    """A slide of the first deck loaded (the chapter's deck: `/slides/{number}`)."""
    return get_slide(db, first_deck(db), number)


def list_decks(db: Db) -> list[dict[str, Any]]:
    d, sl = t.deck, t.slide
    stmt = (
        select(d.c.slug, d.c.title, d.c.file_name, d.c.sha256, func.count(sl.c.id).label("slides"))
        .outerjoin(sl, sl.c.deck_id == d.c.id)
        .group_by(d.c.id, d.c.slug, d.c.title, d.c.file_name, d.c.sha256)
        .order_by(d.c.id)
    )
    return [
        dict(r) | {"url": f"/decks/{r['slug']}", "slides_url": f"/decks/{r['slug']}/slides"}
        for r in db.execute(stmt).mappings()
    ]


def get_deck(db: Db, slug: str) -> dict[str, Any]:
    deck = next((d for d in list_decks(db) if d["slug"] == slug), None)
    if deck is None:
        raise NotFound("deck", slug, candidates=[d["slug"] for d in list_decks(db)])
    return deck
