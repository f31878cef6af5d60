"""GET /timeline.svg: a well-formed, self-contained picture of every release, no overlaps."""

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from api.queries.timeline_svg import Release, render_svg, text_width
from tests.helpers import assert_problem

SVG = "{http://www.w3.org/2000/svg}"
PICTURE = Path(__file__).resolve().parent.parent / "docs" / "timeline.svg"
Box = tuple[float, float, float, float]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox", "").startswith("0 0 ")
    # Self-contained: nothing to fetch or run.
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}image", f"{SVG}foreignObject")
        assert not any(name.endswith("href") for name in element.attrib), element.attrib
    assert "@import" not in svg and "url(" not in svg
    return root


def text_box(element: ET.Element) -> Box:
    """The box a `<text>` occupies, from its anchor, size and the width estimate."""
    x, y, size = (float(element.get(k, "0")) for k in ("x", "y", "font-size"))
    width = text_width(element.text or "", size)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[
        element.get("text-anchor", "start")
    ]
    return left, y - size, left + width, y + size * 0.3


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def lanes(root: ET.Element) -> list[tuple[float, float]]:
    rects = root.iter(f"{SVG}rect")
    return [
        (float(r.get("y", "0")), float(r.get("y", "0")) + float(r.get("height", "0")))
        for r in rects
        if r.get("class") == "lane"
    ]


def check_layout(root: ET.Element) -> None:
    """No two labels overlap; lanes do not overlap; every release sits inside one lane."""
    bands = lanes(root)
    for (_, bottom), (top, _) in zip(bands, bands[1:], strict=False):
        assert bottom <= top
    labels = [
        text_box(t)
        for t in root.iter(f"{SVG}text")
        if t.get("class") in ("label", "intro", "lab", "year")
    ]
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not overlap(a, b), (a, b)
    for group in root.iter(f"{SVG}g"):
        boxes = [text_box(t) for t in group.iter(f"{SVG}text")]
        assert any(all(top <= b[1] and b[3] <= bottom for b in boxes) for top, bottom in bands)


def test_the_timeline_picture_holds_every_release(client: TestClient) -> None:
    response = client.get("/timeline.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = parse(response.text)
    drawn = {g.get("data-slug") for g in root.iter(f"{SVG}g") if g.get("class") == "release"}
    models = client.get("/timeline?kind=model&limit=500").json()["items"]
    assert drawn == {e["entity"]["slug"] for e in models}
    names = {t.text for t in root.iter(f"{SVG}text") if t.get("class") == "lab"}
    assert {"Meta", "DeepSeek", "Mistral AI"} <= names
    intro = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "intro"]
    assert any("Multi-head latent attention" in line for line in intro)
    check_layout(root)


def test_the_picture_takes_the_timeline_filters(client: TestClient) -> None:
    root = parse(client.get("/timeline.svg?lab=meta,mistral-ai&from=2023-06&as_of=2024-06").text)
    drawn = {g.get("data-slug") for g in root.iter(f"{SVG}g") if g.get("class") == "release"}
    assert drawn == {"llama-2", "mistral-7b", "mixtral-8x7b", "llama-3"}
    assert len(lanes(root)) == 2
    check_layout(root)
    gqa = parse(client.get("/timeline.svg?technique=multi-head-latent-attention").text)
    drawn = {g.get("data-slug") for g in gqa.iter(f"{SVG}g") if g.get("class") == "release"}
    assert drawn == {"deepseek-v2", "deepseek-v3"}
    empty = parse(client.get("/timeline.svg?from=2030").text)
    assert not lanes(empty)
    assert_problem(client.get("/timeline.svg?as_of=later"), 422, "as_of")


def test_a_crowded_lane_stacks_its_labels_without_overlap() -> None:
    start = date(2024, 1, 1)
    releases = [
        Release(f"m{i}", f"Model <{i}> & \"co\" with a long name", start + timedelta(days=i * 3),
                "lab-a" if i % 3 else "lab-b", ("Some technique",) if i % 4 == 0 else ())
        for i in range(40)
    ] + [Release("late", "Released on the last day", date(2024, 12, 31), "lab-a")]  # fmt: skip
    root = parse(render_svg(releases, {"lab-a": "Lab & A", "lab-b": "Lab B"}, "Crowded"))
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "release"]) == 41
    check_layout(root)
    width = float(root.get("width", "0"))
    for t in root.iter(f"{SVG}text"):
        left, _, right, _ = text_box(t)
        assert 0 <= left and right <= width, t.text


def test_the_readme_picture_is_a_rendering_of_the_seeded_graph(client: TestClient) -> None:
    root = parse(PICTURE.read_text(encoding="utf-8"))
    drawn = {g.get("data-slug") for g in root.iter(f"{SVG}g") if g.get("class") == "release"}
    models = client.get("/timeline?kind=model&limit=500").json()["items"]
    assert drawn == {e["entity"]["slug"] for e in models}, "regenerate: GET /timeline.svg"
    check_layout(root)
