"""Turn the deck, the reference facts and the overlay into one plan of rows and sourced facts.

Everything here is pure: slugs, not ids; no database. `seed.load` writes the plan.
"""

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from models.base import DatePrecision, EntityKind, LinkRelation, parse_reduced_date
from seed.overlay import EntitySpec, FactSpec, Overlay, SourceSpec
from seed.parse import ParsedDeck
from seed.reference import Reference, Relation

LINEAGE_PREDICATES = ("successor_of", "derived_from", "based_on_architecture")
LINK_PREDICATES = ("uses", "introduced", "does_not_use")
MODEL_VALUE_FIELDS = {
    "name",
    "family",
    "parameters",
    "active_parameters",
    "sizes",
    "context_length",
    "summary",
    "license",
    "open_weights",
}


class SeedError(Exception):
    """The seed cannot be loaded as it stands; the message names the fact and the slide."""


@dataclass(frozen=True)
class Fact:
    """One source row, by slug: where (subject, predicate[, object]) comes from."""

    subject_kind: str
    subject: str
    predicate: str
    kind: str  # "slide" or "reference"
    object_kind: str | None = None
    object: str | None = None
    slide: int | None = None
    quote: str | None = None
    reference: str | None = None
    reference_id: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Known:
    """What the database holds already, by slug: a further deck links to it, never re-creates it.

    An overlay entry about a known entity changes only the fields it states.
    """

    slugs: dict[str, frozenset[str]] = field(default_factory=dict)  # kind -> slugs
    arxiv: dict[str, str] = field(default_factory=dict)  # arXiv id -> paper slug
    values: dict[tuple[str, str, str], Any] = field(default_factory=dict)  # (kind, slug, column)
    # The deck's own writes (`seed:<deck>`): what it created, it re-plans in full on a re-ingest.
    origin: str | None = None
    owned: frozenset[tuple[str, str]] = frozenset()

    def has(self, kind: str, slug: str | None) -> bool:
        return slug is not None and slug in self.slugs.get(kind, frozenset())


@dataclass
class Plan:
    deck: ParsedDeck
    known: Known = field(default_factory=Known)
    partial: set[tuple[str, str]] = field(default_factory=set)  # known entities the overlay edits
    labs: dict[str, dict[str, Any]] = field(default_factory=dict)
    papers: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    techniques: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)

    def entities(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            EntityKind.lab: self.labs,
            EntityKind.paper: self.papers,
            EntityKind.model: self.models,
            EntityKind.technique: self.techniques,
        }[EntityKind(kind)]

    def exists(self, kind: str, slug: str | None) -> bool:
        return slug in self.entities(kind) or self.known.has(kind, slug)

    def value(self, kind: str, slug: str, column: str) -> Any:
        """A column of an entity as it will be: the plan's row, else the database's value."""
        row = self.entities(kind).get(slug, {})
        return row[column] if column in row else self.known.values.get((kind, slug, column))


def reference_fact(
    rel: Relation, kind: str, predicate: str, obj: tuple[str, str] | None = None
) -> Fact:
    return Fact(
        subject_kind=kind,
        subject=rel.subject,
        predicate=predicate,
        kind="reference",
        object_kind=obj[0] if obj else None,
        object=obj[1] if obj else None,
        reference=rel.source,
        reference_id=rel.id,
        note=rel.note,
    )


def build_plan(
    deck: ParsedDeck, overlay: Overlay, reference: Reference | None, known: Known | None = None
) -> Plan:
    """Everything the seed will store, checked: quotes are on their slides, refs are verified."""
    plan = Plan(deck=deck, known=known or Known())
    if reference is not None:
        _add_reference(plan, reference)
    _add_deck_papers(plan)
    _apply_overlay(plan, overlay, reference)
    _check(plan)
    return plan


# --- the reference ----------------------------------------------------------------------------


def _add_reference(plan: Plan, ref: Reference) -> None:
    for slug, lab in ref.labs.items():
        plan.labs[slug] = {
            "name": lab["name"],
            "kind": "industry",
            "country": None,
            "homepage": None,
        }
        for url in lab.get("sources", []):
            plan.facts.append(Fact("lab", slug, "entity", "reference", reference=url))
    for slug, paper in ref.papers.items():
        plan.papers[slug] = _reference_paper(paper)
    for slug, model in ref.models.items():
        plan.models[slug] = {
            "name": model["name"],
            "open_weights": bool(model.get("open_weights", True)),
            "lab": None,
            "paper": None,
            "derived_from": None,
        }
    for slug, tech in ref.techniques.items():
        plan.techniques[slug] = {
            "name": tech["name"],
            "aliases": list(tech.get("aliases") or []),
            "description": tech.get("description"),
            "category": None,
            "proposed_in": None,
            "refines": None,
        }
    for rel in ref.verified():
        _add_relation(plan, rel)
    _choose_origins(plan, ref)


def _reference_paper(paper: dict[str, Any]) -> dict[str, Any]:
    arxiv_id = paper.get("arxiv_id")
    return {
        "arxiv_id": str(arxiv_id) if arxiv_id else None,
        "title": paper["title"],
        "authors": None,
        "published_date": None,
        "date_precision": DatePrecision.day,
        "url": f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
        "key_idea": None,
        "lab": None,
    }


def _add_relation(plan: Plan, rel: Relation) -> None:
    """Map one verified reference relation onto a column or a link, with its source."""
    subject, predicate, obj = rel.subject, rel.predicate, rel.object
    if subject in plan.models:
        model = plan.models[subject]
        if predicate == "developed_by":
            model["lab"] = obj
            plan.facts.append(reference_fact(rel, "model", "developed_by", ("lab", obj)))
        elif predicate == "described_in":
            model["paper"] = obj
            plan.facts.append(reference_fact(rel, "model", "described_in", ("paper", obj)))
        elif predicate == "first_released_on":
            model["release_date"] = date.fromisoformat(str(obj))
            model["date_precision"] = DatePrecision.day
            plan.facts.append(reference_fact(rel, "model", "release_date"))
        elif predicate == "has_license":
            model["license"] = str(obj)
            plan.facts.append(reference_fact(rel, "model", "license"))
            plan.facts.append(reference_fact(rel, "model", "open_weights"))
        elif predicate == "has_context_length" and isinstance(obj, int):
            model["context_length"] = obj
            plan.facts.append(reference_fact(rel, "model", "context_length"))
        elif predicate in LINEAGE_PREDICATES and obj in plan.models:
            model["derived_from"] = obj
            plan.facts.append(reference_fact(rel, "model", "derived_from", ("model", obj)))
        elif predicate in LINK_PREDICATES and obj in plan.techniques:
            relation = (
                LinkRelation.does_not_use if predicate == "does_not_use" else LinkRelation.uses
            )
            plan.links[(subject, obj)] = {"relation": relation, "evidence": rel.note}
            plan.facts.append(reference_fact(rel, "model", predicate, ("technique", obj)))
    elif subject in plan.papers:
        paper = plan.papers[subject]
        if predicate == "has_title":
            paper["title"] = str(obj)
            plan.facts.append(reference_fact(rel, "paper", "title"))
        elif predicate == "has_first_author":
            paper["authors"] = str(obj)
            plan.facts.append(reference_fact(rel, "paper", "authors"))
        elif predicate == "arxiv_v1_submitted_on":
            paper["published_date"] = date.fromisoformat(str(obj))
            paper["date_precision"] = DatePrecision.day
            plan.facts.append(reference_fact(rel, "paper", "published_date"))
    elif subject in plan.techniques:
        if predicate == "generalizes" and obj in plan.techniques:
            plan.techniques[subject]["refines"] = obj
            plan.facts.append(reference_fact(rel, "technique", "refines", ("technique", obj)))


def _choose_origins(plan: Plan, ref: Reference) -> None:
    """A technique's `proposed_in` is its earliest verified origin; the others stay sources."""
    for slug, tech in plan.techniques.items():
        origins = [r for r in ref.verified("originally_introduced_in") if r.subject == slug]
        if not origins:
            continue
        earliest = min(origins, key=lambda r: (_paper_date(plan, r.object), r.id))
        tech["proposed_in"] = earliest.object
        for rel in origins:
            fact = reference_fact(rel, "technique", "proposed_in", ("paper", rel.object))
            if rel is not earliest:
                fact = replace(fact, note="Also credited as an origin; the earliest is recorded.")
            plan.facts.append(fact)
    # A model's paper is published by the model's lab: the same source says both.
    for slug, model in plan.models.items():
        paper = model.get("paper")
        if paper in plan.papers and model.get("lab") and plan.papers[paper]["lab"] is None:
            plan.papers[paper]["lab"] = model["lab"]
            described = next(
                f for f in plan.facts if f.subject == slug and f.predicate == "described_in"
            )
            plan.facts.append(
                replace(
                    described,
                    subject_kind="paper",
                    subject=paper,
                    predicate="published_by",
                    object_kind="lab",
                    object=model["lab"],
                    note=f"The paper describes {model['name']}, developed by this lab.",
                )
            )


def _paper_date(plan: Plan, slug: str) -> date:
    paper = plan.papers.get(slug)
    return paper["published_date"] if paper and paper["published_date"] else date.max


# --- the deck -----------------------------------------------------------------------------------


def _add_deck_papers(plan: Plan) -> None:
    """Every arXiv link on a slide is a paper (linked when known, created when new)."""
    by_arxiv = dict(plan.known.arxiv)
    by_arxiv |= {p["arxiv_id"]: slug for slug, p in plan.papers.items() if p.get("arxiv_id")}
    for slide in plan.deck.slides:
        for link in slide.papers:
            slug = by_arxiv.get(link.arxiv_id)
            if slug is not None and slug not in plan.papers:  # in the database: link it only
                quote = f"[{link.label}]({link.url})"
                plan.facts.append(
                    Fact("paper", slug, "entity", "slide", slide=slide.number, quote=quote)
                )
                continue
            if slug is None:
                slug = f"arxiv-{link.arxiv_id}"
                by_arxiv[link.arxiv_id] = slug
                plan.papers[slug] = {
                    "arxiv_id": link.arxiv_id,
                    "title": link.label,
                    "authors": None,
                    "published_date": None,
                    "date_precision": DatePrecision.day,
                    "url": f"https://arxiv.org/abs/{link.arxiv_id}",
                    "key_idea": None,
                    "lab": None,
                }
            paper = plan.papers[slug]
            if paper["published_date"] is None and link.year is not None:
                paper["published_date"] = date(link.year, 1, 1)
                paper["date_precision"] = DatePrecision.year
                plan.facts.append(
                    Fact(
                        "paper",
                        slug,
                        "published_date",
                        "slide",
                        slide=slide.number,
                        quote=f"[{link.label}]({link.url}) ({link.year})",
                    )
                )
            plan.facts.append(
                Fact(
                    "paper",
                    slug,
                    "entity",
                    "slide",
                    slide=slide.number,
                    quote=f"[{link.label}]({link.url})",
                )
            )
        for item in slide.items:
            if item.kind != "summary":
                continue
            for arxiv_id in item.arxiv_ids:
                slug = by_arxiv[arxiv_id]
                if slug not in plan.papers:
                    continue
                plan.papers[slug]["key_idea"] = item.detail
                plan.facts.append(
                    Fact("paper", slug, "key_idea", "slide", slide=slide.number, quote=item.detail)
                )
    for slug, paper in plan.papers.items():
        if paper.get("arxiv_id") and paper.get("published_date", 0) is None:
            # New-style arXiv ids begin with the year and month of submission (YYMM).
            yymm = paper["arxiv_id"][:4]
            paper["published_date"] = date(2000 + int(yymm[:2]), int(yymm[2:]), 1)
            paper["date_precision"] = DatePrecision.month
            plan.facts.append(
                Fact(
                    "paper",
                    slug,
                    "published_date",
                    "reference",
                    reference=f"arXiv:{paper['arxiv_id']}",
                    note="Month read from the arXiv identifier (YYMM); the day is not verified.",
                )
            )


# --- the overlay --------------------------------------------------------------------------------


def _row(plan: Plan, kind: str, spec: EntitySpec, new: dict[str, Any]) -> dict[str, Any]:
    """The plan's row for `spec`: a new one, or an empty (partial) one for a known entity."""
    rows = plan.entities(kind)
    owned = (kind, spec.slug) in plan.known.owned
    if spec.slug not in rows and plan.known.has(kind, spec.slug) and not owned:
        plan.partial.add((kind, spec.slug))
        rows[spec.slug] = {}
    return rows.setdefault(spec.slug, new)


def _stated(plan: Plan, kind: str, spec: EntitySpec, names: tuple[str, ...]) -> dict[str, Any]:
    """The spec's classifications; for a known entity, only those the overlay states."""
    partial = (kind, spec.slug) in plan.partial
    return {n: getattr(spec, n) for n in names if not partial or n in spec.model_fields_set}


def _apply_overlay(plan: Plan, overlay: Overlay, ref: Reference | None) -> None:
    """Rows first, for every kind, then the facts: a fact may name an entity stated below it."""
    rows: list[tuple[str, EntitySpec, dict[str, Any]]] = []
    for lab in overlay.labs:
        row = _row(plan, "lab", lab, {"name": lab.name or lab.slug})
        row.update(_stated(plan, "lab", lab, ("kind", "country", "homepage")))
        rows.append(("lab", lab, row))
    for paper in overlay.papers:
        new = _reference_paper({"title": paper.name or paper.slug, "arxiv_id": paper.arxiv_id})
        row = _row(plan, "paper", paper, new)
        if paper.lab:
            row["lab"] = paper.lab
        rows.append(("paper", paper, row))
    for model in overlay.models:
        new = {"name": model.name or model.slug, "lab": None, "paper": None,
               "derived_from": None, "open_weights": True}  # fmt: skip
        row = _row(plan, "model", model, new)
        row.update(_stated(plan, "model", model, ("family", "derivation")))
        if model.open_weights is not None:
            row["open_weights"] = model.open_weights
        rows.append(("model", model, row))
    for tech in overlay.techniques:
        new = {"name": tech.name or tech.slug, "aliases": [], "description": None,
               "proposed_in": None, "refines": None}  # fmt: skip
        row = _row(plan, "technique", tech, new)
        row["category"] = tech.category
        if tech.aliases is not None:
            row["aliases"] = list(tech.aliases)
        rows.append(("technique", tech, row))
    for kind, spec, row in rows:
        _apply_facts(plan, kind, spec, row, ref)


def _apply_facts(
    plan: Plan, kind: str, spec: EntitySpec, row: dict[str, Any], ref: Reference | None
) -> None:
    if spec.name:
        row["name"] = spec.name
    for fact in spec.facts:
        where = f"{kind} '{spec.slug}', fact '{fact.about}'"
        obj = _fact_object(plan, kind, spec.slug, fact, row, where)
        if fact.value is not None:
            _set_value(row, fact, where)
        for source in fact.sources:
            plan.facts.append(_overlay_fact(plan, kind, spec.slug, fact, obj, source, ref, where))


def _fact_object(
    plan: Plan, kind: str, slug: str, fact: FactSpec, row: dict[str, Any], where: str
) -> tuple[str, str] | None:
    """The object of a relation fact, creating the relation when the overlay states a new one."""
    about = fact.about
    if kind == "model" and about in LINK_PREDICATES:
        if fact.object is None or not plan.exists("technique", fact.object):
            raise SeedError(f"{where}: unknown technique {fact.object!r}")
        relation = LinkRelation.does_not_use if about == "does_not_use" else LinkRelation.uses
        plan.links.setdefault((slug, fact.object), {"relation": relation, "evidence": None})
        return ("technique", fact.object)
    relations = {
        ("model", "developed_by"): ("lab", "lab"),
        ("model", "described_in"): ("paper", "paper"),
        ("model", "derived_from"): ("model", "derived_from"),
        ("paper", "published_by"): ("lab", "lab"),
        ("technique", "proposed_in"): ("paper", "proposed_in"),
        ("technique", "refines"): ("technique", "refines"),
    }
    if (kind, about) not in relations:
        return None
    object_kind, column = relations[(kind, about)]
    target = fact.object or row.get(column)
    if target is None or not plan.exists(object_kind, target):
        raise SeedError(f"{where}: no {object_kind} to relate to ({target!r})")
    row[column] = target
    return (object_kind, target)


def _set_value(row: dict[str, Any], fact: FactSpec, where: str) -> None:
    if fact.about in ("release_date", "published_date"):
        try:
            row[fact.about], row["date_precision"] = parse_reduced_date(str(fact.value))
        except ValueError as error:
            raise SeedError(f"{where}: {error}") from error
    else:
        row[fact.about] = fact.value


def _overlay_fact(
    plan: Plan,
    kind: str,
    slug: str,
    fact: FactSpec,
    obj: tuple[str, str] | None,
    source: SourceSpec,
    ref: Reference | None,
    where: str,
) -> Fact:
    base = Fact(
        kind,
        slug,
        fact.about,
        "slide",
        object_kind=obj[0] if obj else None,
        object=obj[1] if obj else None,
        note=source.note,
    )
    if source.slide is not None:
        slide = plan.deck.slide(source.slide)
        if slide is None:
            raise SeedError(f"{where}: the deck has no slide {source.slide}")
        if not slide.contains(source.quote or ""):
            raise SeedError(
                f"{where}: the quote {source.quote!r} is not on slide {source.slide}"
                f" ({slide.title!r})"
            )
        return replace(base, slide=source.slide, quote=source.quote)
    rel = ref.relations.get(source.ref or "") if ref else None
    if rel is None or not rel.verified:
        raise SeedError(f"{where}: {source.ref!r} is not a verified reference relation")
    if rel.subject != slug:
        raise SeedError(f"{where}: {source.ref} is about {rel.subject!r}, not {slug!r}")
    return replace(
        base,
        kind="reference",
        reference=rel.source,
        reference_id=rel.id,
        note=source.note or rel.note,
    )


# --- checks -------------------------------------------------------------------------------------


def _check(plan: Plan) -> None:
    for slug, tech in plan.techniques.items():
        if tech.get("category") is None and ("technique", slug) not in plan.partial:
            raise SeedError(f"technique '{slug}' has no category in the overlay")
    for slug, model in plan.models.items():
        if model.get("derived_from") and not plan.value("model", slug, "derivation"):
            raise SeedError(f"model '{slug}' derives from {model['derived_from']!r}: give its kind")
    # "Introduced" is derived from the technique's paper; a source that says so must agree.
    for fact in plan.facts:
        if fact.predicate != "introduced" or fact.object is None:
            continue
        paper = plan.value("model", fact.subject, "paper")
        proposed = plan.value("technique", fact.object, "proposed_in")
        if paper is None or paper != proposed:
            raise SeedError(
                f"model '{fact.subject}' is said to introduce '{fact.object}', but the technique"
                f" was proposed in {proposed!r}, not in the model's paper {paper!r}"
            )
