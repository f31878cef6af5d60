"""The timeline as a self-contained SVG: time across, one lane per lab, a mark per release.

Pure string building: no fonts, scripts or links to fetch. Label sizes are estimated from a
per-character width table; within a lane, each release goes to the first row where its mark and
label clear everything already there, so no two labels overlap and lanes grow to fit.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select

from api.db import Db
from api.queries import timeline as timeline_queries
from api.queries.common import role_expr
from models import tables as t

WIDTH = 960
LEFT = 170  # lab names
RIGHT = 24
TOP = 64  # title and year labels
ROW = 34  # one row of marks: a name and a line of introductions
LANE_PAD = 8
FONT = 12
SMALL = 10
MARK = 5
GAP = 8
FONT_FAMILY = "Helvetica, Arial, sans-serif"
NARROW, WIDE = set("ijlft.,:;'|!()[] -"), set("MWmw@%")


@dataclass(frozen=True)
class Release:
    slug: str
    name: str
    day: date
    lab: str
    introduced: tuple[str, ...] = ()


@dataclass
class Placed:
    release: Release
    x: float
    row: int
    flip: bool
    box: tuple[float, float, float, float] = (0, 0, 0, 0)


@dataclass
class Lane:
    lab: str
    top: float
    height: float
    placed: list[Placed] = field(default_factory=list)


def text_width(text: str, size: float) -> float:
    """An upper estimate of the rendered width of `text` in a sans-serif font of `size` px."""
    units = 0.0
    for char in text:
        if char in NARROW:
            units += 0.34
        elif char in WIDE or char.isupper():
            units += 0.78 if char in WIDE else 0.7
        else:
            units += 0.58
    return units * size


def intro_line(release: Release) -> str:
    return "introduced " + ", ".join(release.introduced) if release.introduced else ""


def _span(start: date, end: date) -> tuple[date, date]:
    return date(start.year, 1, 1), date(end.year + 1, 1, 1)


def layout(releases: list[Release]) -> tuple[list[Lane], tuple[date, date]]:
    """Lanes in order of each lab's first release, every release placed in a free row."""
    if not releases:
        return [], _span(date.today(), date.today())
    ordered = sorted(releases, key=lambda r: (r.day, r.slug))
    span = _span(ordered[0].day, ordered[-1].day)
    lanes: dict[str, Lane] = {}
    for release in ordered:
        lanes.setdefault(release.lab, Lane(release.lab, 0, 0))
    y = float(TOP)
    for lane in lanes.values():
        rows: list[list[tuple[float, float]]] = []
        for release in (r for r in ordered if r.lab == lane.lab):
            x = x_of(release.day, span)
            width = max(text_width(release.name, FONT), text_width(intro_line(release), SMALL))
            flip = x + MARK + 4 + width > WIDTH - RIGHT
            left, right = (
                (x - MARK - 4 - width, x + MARK) if flip else (x - MARK, x + MARK + 4 + width)
            )
            row = next(
                (i for i, used in enumerate(rows)
                 if all(right + GAP <= a or left >= b + GAP for a, b in used)),
                len(rows),
            )  # fmt: skip
            if row == len(rows):
                rows.append([])
            rows[row].append((left, right))
            lane.placed.append(Placed(release, x, row, flip))
        lane.top = y
        lane.height = len(rows) * ROW + 2 * LANE_PAD
        for placed in lane.placed:
            mark_y = mark_y_of(lane, placed.row)
            left, right = _extent(placed)
            placed.box = (left, mark_y - FONT + 2, right, mark_y + 4 + SMALL + 2)
        y += lane.height
    return list(lanes.values()), span


def _extent(placed: Placed) -> tuple[float, float]:
    r = placed.release
    width = max(text_width(r.name, FONT), text_width(intro_line(r), SMALL))
    if placed.flip:
        return placed.x - MARK - 4 - width, placed.x + MARK
    return placed.x - MARK, placed.x + MARK + 4 + width


def x_of(day: date, span: tuple[date, date]) -> float:
    total = (span[1] - span[0]).days
    return LEFT + (day - span[0]).days / total * (WIDTH - LEFT - RIGHT)


def mark_y_of(lane: Lane, row: int) -> float:
    return lane.top + LANE_PAD + row * ROW + FONT


def render_svg(releases: list[Release], lab_names: dict[str, str], title: str) -> str:
    """The SVG document: title, year grid, lab lanes, one labelled mark per release."""
    lanes, span = layout(releases)
    height = (lanes[-1].top + lanes[-1].height if lanes else TOP) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="{FONT_FAMILY}" role="img" '
        f'aria-labelledby="title">',
        f'<title id="title">{escape(title)}</title>',
        f'<rect width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" font-size="16" font-weight="bold" fill="#111">'
        f"{escape(title)}</text>",
    ]
    for i, lane in enumerate(lanes):
        fill = "#f4f6fa" if i % 2 == 0 else "#ffffff"
        out.append(
            f'<rect class="lane" x="0" y="{lane.top:.1f}" width="{WIDTH}" '
            f'height="{lane.height:.1f}" fill="{fill}"/>'
        )
    for year in range(span[0].year, span[1].year + 1):
        x = x_of(date(year, 1, 1), span)
        out.append(
            f'<line class="year" x1="{x:.1f}" y1="{TOP - 12}" x2="{x:.1f}" y2="{height - 28:.0f}" '
            'stroke="#ddd"/>'
        )
        if year < span[1].year:
            mid = x_of(date(year, 7, 1), span)
            out.append(
                f'<text class="year" x="{mid:.1f}" y="{TOP - 18}" font-size="{FONT}" '
                f'text-anchor="middle" fill="#555">{year}</text>'
            )
    for lane in lanes:
        out.append(
            f'<text class="lab" x="12" y="{lane.top + LANE_PAD + FONT:.1f}" font-size="13" '
            f'font-weight="bold" fill="#222">{escape(lab_names.get(lane.lab, lane.lab))}</text>'
        )
        out.extend(_release(p, lane) for p in lane.placed)
    out.append(
        f'<text x="{LEFT}" y="{height - 10:.0f}" font-size="{SMALL}" fill="#555">'
        "● model release   ◆ release whose paper proposed a technique (introduced)</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _release(placed: Placed, lane: Lane) -> str:
    r, x = placed.release, placed.x
    y = mark_y_of(lane, placed.row)
    if r.introduced:
        mark = (
            f'<path d="M{x:.1f},{y - 4 - MARK:.1f} l{MARK + 1},{MARK + 1} l-{MARK + 1},{MARK + 1} '
            f'l-{MARK + 1},-{MARK + 1} z" fill="#c2410c"/>'
        )
    else:
        mark = f'<circle cx="{x:.1f}" cy="{y - 4:.1f}" r="{MARK - 1}" fill="#1d4ed8"/>'
    anchor, tx = ("end", x - MARK - 4) if placed.flip else ("start", x + MARK + 4)
    text = (
        f'<text class="label" x="{tx:.1f}" y="{y:.1f}" font-size="{FONT}" '
        f'text-anchor="{anchor}" fill="#111">{escape(r.name)}</text>'
    )
    if r.introduced:
        text += (
            f'<text class="intro" x="{tx:.1f}" y="{y + 4 + SMALL:.1f}" font-size="{SMALL}" '
            f'text-anchor="{anchor}" font-style="italic" fill="#9a3412">'
            f"{escape(intro_line(r))}</text>"
        )
    label = f"{r.name}, {r.day.isoformat()}"
    attributes = f"data-slug={quoteattr(r.slug)} aria-label={quoteattr(label)}"
    return f'<g class="release" {attributes}>{mark}{text}</g>'


def releases(
    db: Db, *, where: timeline_queries.EventFilter
) -> tuple[list[Release], dict[str, str]]:
    """The model releases the timeline filter selects, with what each introduced: 2 queries."""
    events, _ = timeline_queries.timeline_page(db, where=where, limit=timeline_queries.GROUP_CAP)
    models = [e for e in events if e["kind"] == "model"]
    introduced: dict[str, list[str]] = {}
    mt = t.model_technique
    stmt: Any = (
        select(t.model.c.slug, t.technique.c.name)
        .select_from(mt)
        .join(t.model, t.model.c.id == mt.c.model_id)
        .join(t.technique, t.technique.c.id == mt.c.technique_id)
        .where(
            role_expr() == "introduced", t.model.c.slug.in_([e["entity"]["slug"] for e in models])
        )
        .order_by(t.model.c.slug, t.technique.c.name)
    )
    for slug, name in db.execute(stmt):
        introduced.setdefault(slug, []).append(name)
    lab_names = {e["lab"]["slug"]: e["lab"]["name"] for e in models if e["lab"]}
    out = [
        Release(
            slug=e["entity"]["slug"],
            name=e["entity"]["name"],
            day=date.fromisoformat(_first_day(e["date"])),
            lab=e["lab"]["slug"] if e["lab"] else "",
            introduced=tuple(introduced.get(e["entity"]["slug"], ())),
        )
        for e in models
    ]
    lab_names.setdefault("", "No lab")
    return out, lab_names


def _first_day(reduced: str) -> str:
    return {4: reduced + "-01-01", 7: reduced + "-01"}.get(len(reduced), reduced)
