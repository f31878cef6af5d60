"""The explorer in a real browser: timeline, search, entity pages, who introduced what, graph."""

import re

import httpx
import pytest

from tests.e2e.conftest import Explorer

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

META_MODELS = ["llama", "llama-2", "llama-3", "llama-3-1"]
DATES = "els => els.map(e => e.dataset.date)"


def test_the_page_and_its_files_come_from_the_package(server: str) -> None:
    page = httpx.get(f"{server}/explore")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>" not in page.text and "style=" not in page.text
    files = re.findall(r'(?:src|href)="(/explore/[^"]+)"', page.text)
    assert "/explore/app.js" in files and "/explore/explorer.css" in files
    for path in files:
        answer = httpx.get(f"{server}{path}")
        assert answer.status_code == 200, path
        again = httpx.get(f"{server}{path}", headers={"If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304, path
    script = httpx.get(f"{server}/explore/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{server}/explore/nothing.js").status_code == 404
    assert httpx.get(f"{server}/explore/..%2Fapp.py").status_code == 404


def test_the_timeline_shows_every_meta_model_in_order(explorer: Explorer) -> None:
    explorer.open()
    page = explorer.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Timeline")
    meta = page.locator('[data-testid="timeline-event"][data-kind="model"][data-lab="meta"]')
    expect(meta).to_have_count(len(META_MODELS))
    assert [meta.nth(i).get_attribute("data-slug") for i in range(meta.count())] == META_MODELS
    dates = [meta.nth(i).get_attribute("data-date") or "" for i in range(meta.count())]
    assert dates == sorted(dates)
    # Each sits in Meta's lane.
    lanes = page.locator('td[data-lane="meta"] [data-testid="timeline-event"][data-kind="model"]')
    expect(lanes).to_have_count(len(META_MODELS))
    explorer.screenshot("timeline")

    page.get_by_test_id("filter-lab").select_option("meta")
    expect(page).to_have_url(re.compile(r"#/timeline\?lab=meta$"))
    events = page.get_by_test_id("timeline-event")
    expect(events.first).to_have_attribute("data-lab", "meta")
    assert set(events.evaluate_all("els => els.map(e => e.dataset.lab)")) == {"meta"}

    explorer.open("#/timeline?technique=multi-head-latent-attention&from=2024&to=2024")
    expect(page.get_by_test_id("filter-technique")).to_have_value("multi-head-latent-attention")
    expect(page.get_by_test_id("filter-from")).to_have_value("2024")
    slugs = events.evaluate_all("els => els.map(e => e.dataset.slug)")
    assert "deepseek-v2" in slugs and "llama-2" not in slugs
    assert all(date.startswith("2024") for date in events.evaluate_all(DATES))
    explorer.assert_no_errors()


def test_an_event_opens_its_entity_and_back_returns(explorer: Explorer) -> None:
    explorer.open("#/timeline?lab=meta")
    page = explorer.page
    page.locator('[data-testid="timeline-event"][data-slug="llama-2"]').click()
    expect(page).to_have_url(re.compile(r"#/models/llama-2$"))
    expect(page.get_by_test_id("entity-name")).to_have_text("Llama 2")
    page.go_back()
    expect(page).to_have_url(re.compile(r"#/timeline\?lab=meta$"))
    expect(page.get_by_test_id("filter-lab")).to_have_value("meta")
    explorer.assert_no_errors()


def test_search_latent_then_follow_the_introducer_and_come_back(explorer: Explorer) -> None:
    explorer.open("#/timeline")
    page = explorer.page
    search = page.get_by_test_id("search-input")
    search.click()
    search.press_sequentially("latent", delay=30)
    suggestions = page.get_by_test_id("suggestion")
    expect(suggestions.first).to_be_visible()
    slugs = suggestions.evaluate_all("els => els.map(e => e.dataset.slug)")
    assert "multi-head-latent-attention" in slugs
    explorer.screenshot("search-suggestions", full_page=False)
    # The keyboard picks the suggestion: arrows, then Enter.
    for _ in range(slugs.index("multi-head-latent-attention") + 1):
        search.press("ArrowDown")
    search.press("Enter")

    expect(page).to_have_url(re.compile(r"#/techniques/multi-head-latent-attention$"))
    expect(page.get_by_test_id("entity-name")).to_have_text("Multi-head latent attention")
    introducer = page.get_by_test_id("introducer")
    expect(introducer).to_have_count(1)
    expect(introducer).to_have_attribute("data-slug", "deepseek-v2")
    expect(introducer.get_by_role("link", name="DeepSeek-V2", exact=True)).to_be_visible()
    expect(introducer.get_by_test_id("slide-quote").first).to_contain_text(
        "Invented a way to compress the AI's memory"
    )
    expect(page.get_by_test_id("graph-node").first).to_be_visible()
    explorer.screenshot("technique")

    introducer.get_by_role("link", name="DeepSeek-V2", exact=True).click()
    expect(page).to_have_url(re.compile(r"#/models/deepseek-v2$"))
    expect(page.get_by_test_id("entity-name")).to_have_text("DeepSeek-V2")
    mla = page.locator('[data-testid="techniques"] tr[data-role="introduced"]')
    expect(mla).to_contain_text("Multi-head latent attention")
    expect(page.get_by_test_id("lineage")).to_contain_text("DeepSeek-V3")
    expect(page.get_by_test_id("graph-node").first).to_be_visible()
    explorer.screenshot("model")

    page.go_back()
    expect(page).to_have_url(re.compile(r"#/techniques/multi-head-latent-attention$"))
    expect(page.get_by_test_id("entity-name")).to_have_text("Multi-head latent attention")
    page.go_forward()
    expect(page.get_by_test_id("entity-name")).to_have_text("DeepSeek-V2")

    page.get_by_test_id("search-input").fill("deepseek")
    page.get_by_test_id("search-input").press("Enter")
    expect(page).to_have_url(re.compile(r"#/search\?q=deepseek$"))
    expect(page.get_by_test_id("search-result").first).to_be_visible()
    explorer.screenshot("search")
    explorer.assert_no_errors()


def test_who_introduced_what_sorts_and_shows_adopters(explorer: Explorer, server: str) -> None:
    expected = httpx.get(f"{server}/introductions?limit=500").json()["items"]
    explorer.open("#/introductions")
    page = explorer.page
    rows = page.get_by_test_id("introduction")
    expect(rows).to_have_count(len(expected))
    mla = page.locator('[data-testid="introduction"][data-slug="multi-head-latent-attention"]')
    expect(mla.get_by_test_id("introduced-by")).to_have_text("DeepSeek-V2")

    page.get_by_test_id("sort-adopters").click()
    expect(page).to_have_url(re.compile(r"sort=adopters$"))
    page.get_by_test_id("sort-adopters").click()
    expect(page).to_have_url(re.compile(r"sort=-adopters$"))
    most = max(expected, key=lambda row: row["adopters_count"])["technique"]["slug"]
    expect(rows.first).to_have_attribute("data-slug", most)
    sort_header = page.locator('th[aria-sort="descending"]')
    expect(sort_header).to_contain_text("Adopters")

    mla.get_by_test_id("show-adopters").click()
    adopters = page.get_by_test_id("adopters")
    expect(adopters).to_contain_text("DeepSeek-V2")
    expect(adopters).to_contain_text("DeepSeek-V3")
    explorer.screenshot("introductions")
    explorer.assert_no_errors()


def test_the_graph_draws_the_neighbourhood_and_recentres(explorer: Explorer, server: str) -> None:
    around = httpx.get(f"{server}/graph/neighbors/model/deepseek-v2").json()
    explorer.open("#/graph/models/deepseek-v2")
    page = explorer.page
    nodes = page.get_by_test_id("graph-node")
    expect(nodes).to_have_count(len(around["nodes"]))
    expect(page.locator("svg[data-testid=graph] line")).to_have_count(len(around["edges"]))
    explorer.screenshot("graph")

    page.locator('[data-id="technique:multi-head-latent-attention"]').focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/graph/techniques/multi-head-latent-attention$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Around Multi-head latent attention")
    expect(page.locator('[data-id="model:deepseek-v2"]')).to_be_visible()
    explorer.assert_no_errors()


def test_an_api_error_is_shown_with_its_suggestions(explorer: Explorer) -> None:
    explorer.expect_failed_request("/models/mixtrel")
    explorer.open("#/models/mixtrel")
    page = explorer.page
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("No model 'mixtrel'")
    explorer.screenshot("error")
    error.get_by_role("link", name="mixtral-8x7b").click()
    expect(page.get_by_test_id("entity-name")).to_have_text("Mixtral 8x7B")
    explorer.assert_no_errors()


def test_phone_sized_screens_do_not_scroll_sideways(phone: Explorer) -> None:
    page = phone.page
    for fragment, name, ready in [
        ("#/timeline", "phone-timeline", "timeline-event"),
        ("#/models/deepseek-v2", "phone-model", "graph-node"),
        ("#/introductions", "phone-introductions", "introduction"),
        ("#/graph/models/deepseek-v2", "phone-graph", "graph-node"),
    ]:
        phone.open(fragment)
        expect(page.get_by_test_id(ready).first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{fragment} is {width}px wide"
        phone.screenshot(name, full_page=False)
    phone.assert_no_errors()


@pytest.mark.parametrize(
    ("fragment", "name", "heading"),
    [
        ("#/labs/meta", "lab", "Meta"),
        ("#/papers/arxiv-2405.04434", "paper", "DeepSeek-V2: A Strong, Economical"),
        ("#/slides/9", "slide", "DeepSeek: Efficiency at extreme scale"),
    ],
)
def test_labs_papers_and_slides_have_pages(
    explorer: Explorer, fragment: str, name: str, heading: str
) -> None:
    explorer.open(fragment)
    expect(explorer.page.get_by_role("heading", level=1)).to_contain_text(heading)
    if name != "slide":
        expect(explorer.page.get_by_test_id("slide-quote").first).to_be_visible()
    explorer.screenshot(name)
    explorer.assert_no_errors()


def test_the_keyboard_reaches_every_view(explorer: Explorer) -> None:
    explorer.open("#/timeline")
    page = explorer.page
    expect(page.get_by_test_id("timeline-event").first).to_be_visible()
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "nav-introductions":
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/introductions$"))
    # The new view's heading takes the focus, so the next Tab starts in the page.
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    explorer.assert_no_errors()


LAYOUT_CHECK = """async ([depth, width, height]) => {
  const { forceLayout, ringLayout } = await import("/explore/layout.js");
  const answer = await (await fetch(`/graph/neighbors/model/llama-2?depth=${depth}`)).json();
  const graph = { center: answer.center, nodes: answer.nodes, edges: answer.edges };
  const { place } = (depth > 1 ? ringLayout : forceLayout)(graph, width, height);
  const points = [...place.values()];
  let closest = Infinity;
  points.forEach((a, i) => points.slice(i + 1).forEach((b) => {
    closest = Math.min(closest, Math.hypot(a.x - b.x, a.y - b.y));
  }));
  const inside = points.every((p) => p.x >= 0 && p.x <= width && p.y >= 0 && p.y <= height);
  const centre = place.get(answer.center.id);
  return { count: points.length, nodes: answer.nodes.length, closest, inside, centre };
}"""


@pytest.mark.parametrize(
    ("depth", "width", "height"), [(1, 900, 520), (2, 900, 900), (1, 420, 600)]
)
def test_the_layouts_keep_nodes_apart_and_inside(
    explorer: Explorer, depth: int, width: int, height: int
) -> None:
    explorer.open("#/graph")
    expect(explorer.page.get_by_role("heading", level=1)).to_have_text("Graph")
    result = explorer.page.evaluate(LAYOUT_CHECK, [depth, width, height])
    assert result["count"] == result["nodes"] > 1
    assert result["inside"], result
    assert result["closest"] >= 18, result  # two node diameters: no node hides another
    assert abs(result["centre"]["x"] - width / 2) < width / 4
    explorer.assert_no_errors()
