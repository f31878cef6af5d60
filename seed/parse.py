"""Read a reveal.js markdown deck: slides, arXiv links, summary table, resources and questions."""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

SLIDE_SEPARATOR = re.compile(r"^----\s*$", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
ARXIV_URL = re.compile(r"^https?://arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?/?$")
YEAR_AFTER = re.compile(r"^\s*\((\d{4})\)")  # a range such as (2024-2025) names no one year
BULLET = re.compile(r"^\s*[-*]\s+(.+?)\s*$", re.MULTILINE)
TABLE_ROW = re.compile(r"^\|(.+)\|\s*$", re.MULTILINE)
EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class PaperLink:
    arxiv_id: str
    label: str
    url: str
    year: int | None


@dataclass(frozen=True)
class Item:
    """A structured row of a slide: kind is 'summary', 'resource' or 'question'."""

    kind: str
    text: str
    url: str | None = None
    detail: str | None = None
    arxiv_ids: tuple[str, ...] = ()


@dataclass
class ParsedSlide:
    number: int
    title: str
    body: str
    papers: list[PaperLink] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    @property
    def plain(self) -> str:
        return plain_text(self.body)

    def contains(self, quote: str) -> bool:
        """True when `quote` stands verbatim in the slide, as written or as plain text."""
        return quote in self.body or " ".join(quote.split()) in self.plain


@dataclass
class ParsedDeck:
    slug: str
    title: str
    file_name: str
    sha256: str
    slides: list[ParsedSlide]

    def slide(self, number: int) -> ParsedSlide | None:
        if 1 <= number <= len(self.slides):
            return self.slides[number - 1]
        return None


def plain_text(markdown: str) -> str:
    """Markdown without emphasis marks, with links reduced to their text, whitespace collapsed."""
    text = LINK.sub(r"\1", markdown)
    text = EMPHASIS.sub(r"\2", text)
    return " ".join(text.split())


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def arxiv_id_of(url: str) -> str | None:
    match = ARXIV_URL.match(url)
    return match.group(1) if match else None


def _paper_links(body: str) -> list[PaperLink]:
    links = []
    for match in LINK.finditer(body):
        arxiv_id = arxiv_id_of(match.group(2))
        if arxiv_id is None:
            continue
        year = YEAR_AFTER.match(body[match.end() :])
        links.append(
            PaperLink(
                arxiv_id, match.group(1), match.group(2), int(year.group(1)) if year else None
            )
        )
    return links


def _summary_items(body: str) -> list[Item]:
    """Rows of a markdown table whose first cell links arXiv papers: paper -> key idea."""
    items = []
    for row in TABLE_ROW.findall(body):
        cells = [cell.strip() for cell in row.split("|")]
        if len(cells) < 2 or set(cells[0]) <= {"-", ":", " "}:
            continue
        ids = tuple(i for i in (arxiv_id_of(u) for _, u in LINK.findall(cells[0])) if i)
        if ids:
            items.append(Item("summary", plain_text(cells[0]), None, plain_text(cells[1]), ids))
    return items


def _list_items(body: str) -> list[Item]:
    """Reading links ("[title](url) — what it is"), or the questions of a slide of questions."""
    bullets = BULLET.findall(body)
    if bullets and all(b.rstrip().endswith("?") for b in bullets):
        return [Item("question", plain_text(b)) for b in bullets]
    items = []
    for bullet in bullets:
        match = LINK.match(bullet)
        if match is None or arxiv_id_of(match.group(2)):
            continue
        rest = bullet[match.end() :].strip().lstrip("—–-:").strip()
        items.append(Item("resource", match.group(1), match.group(2), rest or None))
    return items


def parse_slide(number: int, raw: str) -> ParsedSlide:
    body = COMMENT.sub("", raw).strip()
    heading = HEADING.search(body)
    title = plain_text(heading.group(1)) if heading else f"Slide {number}"
    slide = ParsedSlide(number=number, title=title, body=body, papers=_paper_links(body))
    slide.items = _summary_items(body) + _list_items(body)
    return slide


def parse_deck(path: Path) -> ParsedDeck:
    """Split the deck on `----` lines and read each slide."""
    data = path.read_bytes()
    text = data.decode("utf-8")
    slides = [parse_slide(n, raw) for n, raw in enumerate(SLIDE_SEPARATOR.split(text), start=1)]
    title = slides[0].title if slides else path.stem
    return ParsedDeck(
        slug=slugify(title) or slugify(path.stem),
        title=title,
        file_name=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        slides=slides,
    )
