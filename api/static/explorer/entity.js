// Entity pages (model, paper, lab, technique) and slide pages: every field, its sources, links.

import { get } from "./api.js";
import { entityLink, externalLink, formatCount, formatDate, h, routeOfUrl } from "./dom.js";
import { graphSection } from "./graph.js";
import { sourceBlock, sourceList } from "./sources.js";

const KINDS = { models: "model", papers: "paper", labs: "lab", techniques: "technique" };
const DERIVATION = {
  successor: "successor of",
  architecture: "architecture from",
  weights: "weights from",
  distilled: "distilled from",
};

function list(items, render, empty = "none") {
  if (!items || !items.length) return h("span", { class: "muted" }, empty);
  return h("ul", { class: "links" }, items.map((item) => h("li", null, render(item))));
}

function dated(ref, date) {
  return [entityLink(ref), date ? h("span", { class: "muted" }, ` · ${formatDate(date)}`) : null];
}

/** The facts of an entity: one row per field, each with the sources that state it. */
function facts(entity, rows) {
  const used = new Set(["entity"]);
  const items = [];
  for (const [label, about, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    const abouts = [about].flat();
    abouts.forEach((name) => used.add(name));
    const sources = entity.sources.filter((source) => abouts.includes(source.about));
    items.push(h("div", { class: "fact", "data-field": abouts[0] },
      h("dt", null, label),
      h("dd", null, h("div", { class: "value" }, value), sourceBlock(sources, `Sources for ${label}`))));
  }
  const rest = entity.sources.filter((source) => !used.has(source.about));
  return [
    h("dl", { class: "facts", testid: "facts" }, items),
    rest.length ? h("section", null, h("h2", null, "Other sources"), sourceList(rest)) : null,
  ];
}

function header(kind, entity, subtitle) {
  const mentioned = entity.sources.filter((source) => source.about === "entity");
  return h("header", { class: "entity-head" },
    h("p", { class: `kind kind-${kind}` }, kind),
    h("h1", { testid: "entity-name" }, entity.name),
    subtitle ? h("p", { class: "subtitle" }, subtitle) : null,
    mentioned.length ? sourceBlock(mentioned, "Where the slides name it") : null,
  );
}

function section(title, ...children) {
  return h("section", { class: "block" }, h("h2", null, title), ...children);
}

function slidesSection(slides) {
  if (!slides || !slides.length) return null;
  return section("On the slides", list(slides, (slide) =>
    h("a", { href: `#/slides/${slide.number}` }, `Slide ${slide.number} · ${slide.title}`)));
}

function lineageSection(lineage) {
  const chain = [...lineage.ancestors].sort((a, b) => b.depth - a.depth);
  const descendants = [...lineage.descendants].sort((a, b) => a.depth - b.depth);
  if (!chain.length && !descendants.length) {
    return section("Lineage", h("p", { class: "muted" }, "No parent or child model in the graph."));
  }
  const step = (item, current) => h("li", { class: current ? "current" : null },
    current ? h("strong", null, item.name) : entityLink(item),
    item.derivation ? h("span", { class: "muted" }, ` (${item.derivation})`) : null,
    item.release_date ? h("span", { class: "muted" }, ` · ${formatDate(item.release_date)}`) : null);
  return section("Lineage",
    h("ol", { class: "lineage", testid: "lineage" },
      chain.map((item) => step(item, false)),
      step(lineage.model, true),
      descendants.map((item) => step(item, false))),
    h("p", { class: "muted" }, "Oldest ancestor first; each step names how the model derives from the one above."));
}

function techniquesTable(techniques) {
  const roleLabel = { introduced: "introduced", uses: "uses", does_not_use: "does not use" };
  return h("div", { class: "table-wrap" }, h("table", { class: "grid stack", testid: "techniques" },
    h("thead", null, h("tr", null, h("th", null, "Technique"), h("th", null, "Category"),
      h("th", null, "Role"), h("th", null, "Sources"))),
    h("tbody", null, techniques.map((technique) => h("tr", { "data-role": technique.role },
      h("td", null, entityLink(technique, "technique")),
      h("td", { "data-label": "Category" }, technique.category),
      h("td", { "data-label": "Role" }, h("span", { class: `role role-${technique.role}` }, roleLabel[technique.role] || technique.role)),
      h("td", null, sourceBlock(technique.sources, `Sources for ${technique.name}`)))))));
}

async function modelPage(ctx, slug) {
  const [model, lineage] = await Promise.all([
    get(`/models/${encodeURIComponent(slug)}`, ctx),
    get(`/models/${encodeURIComponent(slug)}/lineage`, ctx),
  ]);
  const derived = model.derived_from
    ? [DERIVATION[model.derived_from.derivation] || "derived from", " ", entityLink(model.derived_from)]
    : null;
  const sizes = [
    model.parameters ? `${formatCount(model.parameters)} total` : null,
    model.active_parameters ? `${formatCount(model.active_parameters)} active` : null,
  ].filter(Boolean).join(", ");
  return [
    header("model", model, null),
    facts(model, [
      ["Summary", "summary", model.summary],
      ["Released", "release_date", formatDate(model.release_date)],
      ["Lab", "developed_by", entityLink(model.lab)],
      ["Paper", "described_in", entityLink(model.paper)],
      ["Derived from", "derived_from", derived],
      ["Family", "family", model.family],
      ["Parameters", ["parameters", "active_parameters"], sizes || null],
      ["Sizes", "sizes", model.sizes],
      ["Context length", "context_length", model.context_length ? `${model.context_length.toLocaleString("en")} tokens` : null],
      ["Open weights", "open_weights", model.open_weights === null ? null : model.open_weights ? "yes" : "no"],
      ["License", "license", model.license],
    ]),
    section("Techniques", techniquesTable(model.techniques)),
    lineageSection(lineage),
    slidesSection(model.slides),
  ];
}

async function paperPage(ctx, slug) {
  const paper = await get(`/papers/${encodeURIComponent(slug)}`, ctx);
  return [
    header("paper", paper, paper.authors),
    facts(paper, [
      ["Title", "title", paper.title],
      ["arXiv", "arxiv_id", paper.arxiv_id ? externalLink(paper.arxiv_url, paper.arxiv_id) : null],
      ["Authors", "authors", paper.authors],
      ["Published", "published_date", formatDate(paper.published_date)],
      ["Lab", "published_by", entityLink(paper.lab)],
      ["Key idea", "key_idea", paper.key_idea],
    ]),
    section("Models it describes", list(paper.models, (model) => dated(model, model.release_date))),
    section("Techniques it proposed", list(paper.proposed_techniques, (technique) => entityLink(technique))),
    slidesSection(paper.slides),
  ];
}

async function labPage(ctx, slug) {
  const lab = await get(`/labs/${encodeURIComponent(slug)}`, ctx);
  return [
    header("lab", lab, [lab.kind, lab.country].filter(Boolean).join(" · ")),
    facts(lab, [
      ["Kind", "kind", lab.kind],
      ["Country", "country", lab.country],
      ["Homepage", "homepage", lab.homepage ? externalLink(lab.homepage) : null],
    ]),
    section("Models", list(lab.models, (model) => dated(model, model.release_date))),
    section("Papers", list(lab.papers, (paper) => entityLink(paper))),
    h("p", null, h("a", { href: `#/timeline?lab=${encodeURIComponent(lab.slug)}` }, `${lab.name} on the timeline`)),
  ];
}

function introducers(origin) {
  if (!origin.introduced_by.length) {
    return h("p", { testid: "no-introducer" },
      "No model in the graph introduced it: its paper describes no model here.",
      origin.first_adopter ? [" The first model to use it is ", entityLink(origin.first_adopter), "."] : null);
  }
  return h("ul", { class: "introducers" }, origin.introduced_by.map((model) =>
    h("li", { testid: "introducer", "data-slug": model.slug },
      h("p", { class: "who" }, entityLink(model), model.lab ? [" (", entityLink(model.lab), ")"] : null,
        h("span", { class: "muted" }, ` · ${formatDate(model.release_date)}`)),
      sourceBlock(model.sources, `Why ${model.name} introduced it`))));
}

async function techniquePage(ctx, slug) {
  const [technique, origin] = await Promise.all([
    get(`/techniques/${encodeURIComponent(slug)}`, ctx),
    get(`/techniques/${encodeURIComponent(slug)}/introduced-by`, ctx),
  ]);
  const adopters = origin.adopters || [];
  return [
    header("technique", technique, null),
    facts(technique, [
      ["Description", "description", technique.description],
      ["Also called", "aliases", technique.aliases && technique.aliases.length ? technique.aliases.join(", ") : null],
      ["Category", "category", technique.category],
      ["Proposed in", "proposed_in", technique.proposed_in
        ? [entityLink(technique.proposed_in), technique.proposed_date ? h("span", { class: "muted" }, ` · ${formatDate(technique.proposed_date)}`) : null]
        : h("span", { class: "muted" }, "origin not verified")],
      ["Refines", "refines", entityLink(technique.refines, "technique")],
      ["Refined by", "refined_by", technique.refined_by && technique.refined_by.length
        ? list(technique.refined_by, (item) => entityLink(item, "technique")) : null],
    ]),
    section("Introduced by", introducers(origin)),
    section(`Adopters (${adopters.length})`,
      adopters.length
        ? h("ol", { class: "links", testid: "adopters" }, adopters.map((model) => h("li", null,
          dated(model, model.release_date),
          h("span", { class: `role role-${model.role}` }, model.role === "introduced" ? "introduced" : "uses"))))
        : h("p", { class: "muted" }, "No model in the graph uses it.")),
    slidesSection(technique.slides),
  ];
}

const PAGES = { model: modelPage, paper: paperPage, lab: labPage, technique: techniquePage };

export async function renderEntity(ctx, collection, slug) {
  const kind = KINDS[collection];
  const parts = await PAGES[kind](ctx, slug);
  const name = parts[0].querySelector("h1").textContent;
  ctx.setTitle(name);
  ctx.view.append(h("article", { class: `entity entity-${kind}`, testid: `entity-${kind}`, "data-slug": slug },
    parts,
    graphSection(ctx, kind, slug)));
}

// A tiny Markdown reader for slide bodies: headings, lists, quotes, bold and links.
function inline(text) {
  const nodes = [];
  const pattern = /\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)]+)\)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    nodes.push(text.slice(last, match.index));
    if (match[1]) nodes.push(h("strong", null, match[1]));
    else nodes.push(/^https?:/.test(match[3]) ? externalLink(match[3], match[2]) : match[2]);
    last = match.index + match[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}

function markdown(body, title) {
  const blocks = [];
  let items = null;
  for (const line of body.split("\n")) {
    const bullet = /^\s*(?:[-*]|\d+\.)\s+(.*)$/.exec(line);
    if (bullet) {
      if (!items) blocks.push((items = h("ul")));
      items.append(h("li", null, inline(bullet[1])));
      continue;
    }
    items = null;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading && heading[2].trim() === title) continue;  // the page's own heading already
    if (heading) blocks.push(h("h3", null, inline(heading[2])));
    else if (line.startsWith(">")) blocks.push(h("blockquote", null, inline(line.replace(/^>\s?/, ""))));
    else if (line.trim()) blocks.push(h("p", null, inline(line)));
  }
  return blocks;
}

export async function renderSlide(ctx, number) {
  const slide = await get(`/slides/${number}`, ctx);
  const deck = await get(slide.deck.url, ctx);
  ctx.setTitle(`Slide ${slide.number}`);
  const n = Number(slide.number);
  const kinds = ["model", "paper", "technique", "lab"];
  ctx.view.append(h("article", { class: "slide-page", testid: "slide" },
    h("p", { class: "kind" }, `${slide.deck.title} · slide ${slide.number}`),
    h("h1", null, slide.title),
    h("div", { class: "slide-body" }, markdown(slide.body, slide.title)),
    h("section", { class: "block" }, h("h2", null, "Mentioned on this slide"),
      kinds.map((kind) => {
        const mentions = slide.mentions.filter((mention) => mention.kind === kind);
        return mentions.length
          ? h("p", null, h("span", { class: `kind kind-${kind}` }, `${kind}s`), " ",
            mentions.map((mention, i) => [i ? ", " : "", h("a", { href: routeOfUrl(mention.url) }, mention.name)]))
          : null;
      })),
    h("nav", { class: "pager", "aria-label": "Slides" },
      n > 1 ? h("a", { href: `#/slides/${n - 1}` }, "← Previous slide") : h("span"),
      n < deck.slides ? h("a", { href: `#/slides/${n + 1}` }, "Next slide →") : h("span"))));
}
