// The neighbourhood of an entity as an SVG drawing, laid out here by a small force simulation.

import { ApiError, get, getAll } from "./api.js";
import { h, routeOf, routeOfUrl, s } from "./dom.js";
import { forceLayout, KIND_ORDER, ringLayout } from "./layout.js";

const SINGULAR = { models: "model", papers: "paper", labs: "lab", techniques: "technique" };
const WIDE = { width: 900, height: 520, label: 26 };
const NARROW = { width: 420, height: 600, label: 16 };  // phone-sized screens: taller than wide

function nodeOf(kind, ref) {
  return { id: `${kind}:${ref.slug}`, kind, slug: ref.slug, name: ref.name || ref.title || ref.slug, url: ref.url };
}

/** The neighbourhood built from the entity's own page, when the service has no graph route. */
async function localNeighbourhood(ctx, kind, slug) {
  const path = { model: "models", paper: "papers", lab: "labs", technique: "techniques" }[kind];
  const entity = await get(`/${path}/${encodeURIComponent(slug)}`, ctx);
  const center = nodeOf(kind, entity);
  const nodes = new Map([[center.id, center]]);
  const edges = [];
  const link = (otherKind, ref, relation, outgoing = true) => {
    if (!ref) return;
    const node = nodeOf(otherKind, ref);
    if (!nodes.has(node.id)) nodes.set(node.id, node);
    edges.push(outgoing
      ? { source: center.id, target: node.id, relation }
      : { source: node.id, target: center.id, relation });
  };
  if (kind === "model") {
    link("lab", entity.lab, "developed_by");
    link("paper", entity.paper, "described_in");
    link("model", entity.derived_from, "derived_from");
    for (const technique of entity.techniques) {
      if (technique.role !== "does_not_use") link("technique", technique, technique.role);
    }
  } else if (kind === "paper") {
    link("lab", entity.lab, "published_by");
    for (const model of entity.models) link("model", model, "described_in", false);
    for (const technique of entity.proposed_techniques) link("technique", technique, "proposed_in", false);
  } else if (kind === "lab") {
    for (const model of entity.models) link("model", model, "developed_by", false);
    for (const paper of entity.papers) link("paper", paper, "published_by", false);
  } else if (kind === "technique") {
    link("paper", entity.proposed_in, "proposed_in");
    link("technique", entity.refines, "refines");
    for (const other of entity.refined_by || []) link("technique", other, "refines", false);
    const models = await getAll(`/techniques/${encodeURIComponent(slug)}/models?limit=500`, ctx);
    for (const model of models) {
      if (model.role !== "does_not_use") link("model", model, model.role || "uses", false);
    }
  }
  for (const slide of entity.slides || []) {
    link("slide", { slug: `${slide.deck}:${slide.number}`, name: `Slide ${slide.number}`, url: slide.url }, "mentions", false);
  }
  return { center, nodes: [...nodes.values()], edges };
}

/** The neighbourhood from /graph/neighbors, or built locally when that route is missing. */
export async function neighbourhood(ctx, kind, slug, depth = 1) {
  try {
    const answer = await get(`/graph/neighbors/${kind}/${encodeURIComponent(slug)}?depth=${depth}`, ctx);
    if (answer && Array.isArray(answer.nodes) && Array.isArray(answer.edges)) {
      const center = answer.center || answer.nodes.find((node) => node.id === `${kind}:${slug}`);
      return { center, nodes: answer.nodes, edges: answer.edges };
    }
  } catch (error) {
    // A missing route (rather than a missing entity) means an older service: draw it ourselves.
    const routeMissing = error instanceof ApiError && error.status === 404
      && (error.problem.type || "").endsWith("http-404");
    if (!routeMissing) throw error;
  }
  return localNeighbourhood(ctx, kind, slug);
}

function shorten(text, size = 26) {
  return text.length > size ? `${text.slice(0, size - 1)}…` : text;
}

function relationLabel(relation) {
  return relation.replaceAll("_", " ");
}

/** The SVG drawing; `hrefOf(node)` says where a click on a node leads. */
export function drawGraph(graph, hrefOf) {
  const narrow = window.matchMedia("(max-width: 640px)").matches;
  const layered = graph.nodes.some((node) => node.distance > 1);
  const size = { ...(narrow ? NARROW : WIDE) };
  if (layered) size.height = Math.max(size.height, Math.min(1100, 240 + graph.nodes.length * 16));
  const { nodes, edges, place } = (layered ? ringLayout : forceLayout)(graph, size.width, size.height);
  const dense = edges.length > 24;
  const svg = s("svg", {
    class: dense ? "graph dense" : "graph", viewBox: `0 0 ${size.width} ${size.height}`, role: "group",
    "aria-label": `Neighbourhood of ${graph.center.name}`, testid: "graph",
  });
  svg.append(s("defs", null, s("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "9", markerHeight: "9",
    markerUnits: "userSpaceOnUse",
    orient: "auto-start-reverse",
  }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }))));
  const edgeLayer = s("g", { class: "edges" });
  const radiusOf = (id) => (id === graph.center.id ? 14 : 9);
  for (const edge of edges) {
    const a = place.get(edge.source);
    const b = place.get(edge.target);
    const length = Math.max(Math.hypot(b.x - a.x, b.y - a.y), 1);
    const ux = (b.x - a.x) / length;
    const uy = (b.y - a.y) / length;
    const start = radiusOf(edge.source) + 2;
    const end = radiusOf(edge.target) + 3;
    edgeLayer.append(s("g", { class: `edge edge-${edge.relation}` },
      s("title", null, relationLabel(edge.relation)),
      s("line", {
        x1: (a.x + ux * start).toFixed(1), y1: (a.y + uy * start).toFixed(1),
        x2: (b.x - ux * end).toFixed(1), y2: (b.y - uy * end).toFixed(1), "marker-end": "url(#arrow)",
      }),
      s("text", { x: ((a.x + b.x) / 2).toFixed(1), y: ((a.y + b.y) / 2 - 4).toFixed(1), class: "edge-label" },
        relationLabel(edge.relation))));
  }
  const nodeLayer = s("g", { class: "nodes" });
  for (const node of nodes) {
    const point = place.get(node.id);
    const center = node.id === graph.center.id;
    const radius = radiusOf(node.id);
    // Labels point away from the centre; the centre's own label sits below it.
    const origin = place.get(graph.center.id);
    const left = !center && point.x < origin.x - 1;
    const label = center
      ? { x: point.x, y: point.y + radius + 16, "text-anchor": "middle" }
      : { x: point.x + (left ? -(radius + 5) : radius + 5), y: point.y + 4, "text-anchor": left ? "end" : "start" };
    nodeLayer.append(s("a", {
      href: hrefOf(node), class: `node node-${node.kind}${center ? " center" : ""}`,
      "data-id": node.id, testid: "graph-node", "aria-label": `${node.kind}: ${node.name}`,
    },
    s("title", null, `${node.kind}: ${node.name}`),
    s("circle", { cx: point.x.toFixed(1), cy: point.y.toFixed(1), r: radius }),
    s("text", { x: label.x.toFixed(1), y: label.y.toFixed(1), "text-anchor": label["text-anchor"] },
      shorten(node.name, center ? 40 : size.label))));
  }
  svg.append(edgeLayer, nodeLayer);
  return svg;
}

function legend() {
  return h("ul", { class: "legend", "aria-label": "Kinds of node" },
    KIND_ORDER.map((kind) => h("li", { class: `legend-${kind}` }, kind)));
}

function edgeList(graph) {
  const names = new Map(graph.nodes.map((node) => [node.id, node]));
  return h("details", { class: "edge-list" },
    h("summary", null, `The ${graph.edges.length} links as a list`),
    h("ul", null, graph.edges.map((edge) => {
      const a = names.get(edge.source);
      const b = names.get(edge.target);
      if (!a || !b) return null;
      return h("li", null, h("a", { href: nodeHref(a) }, a.name), ` ${relationLabel(edge.relation)} `,
        h("a", { href: nodeHref(b) }, b.name));
    })));
}

function nodeHref(node) {
  return node.url ? routeOfUrl(node.url) : routeOf(node.kind, node.slug);
}

function graphHref(node) {
  return node.kind === "slide" ? nodeHref(node) : `#/graph/${routeOf(node.kind, node.slug).slice(2)}`;
}

/** The graph block of an entity page: loads after the page, never blocks it. */
export function graphSection(ctx, kind, slug) {
  const body = h("div", { class: "graph-body" }, h("p", { class: "loading" }, "Drawing the neighbourhood…"));
  neighbourhood(ctx, kind, slug).then((graph) => {
    body.replaceChildren(h("div", { class: "graph-scroll" }, drawGraph(graph, nodeHref)), legend(), edgeList(graph));
  }).catch((error) => {
    if (error.name !== "AbortError") body.replaceChildren(h("p", { class: "muted" }, `No graph: ${error.message}`));
  });
  return h("section", { class: "block" },
    h("h2", null, "Neighbourhood"),
    h("p", null, h("a", { href: `#/graph/${routeOf(kind, slug).slice(2)}` }, "Open in the graph view")),
    body);
}

/** The graph view: #/graph/models/deepseek-v2; each node re-centres the drawing on itself. */
export async function renderGraph(ctx, collection, slug) {
  if (!collection) {
    const models = await getAll("/models?limit=500", ctx);
    ctx.setTitle("Graph");
    ctx.view.append(h("h1", null, "Graph"),
      h("p", null, "Pick a model to draw its neighbourhood; every entity page has one too."),
      h("ul", { class: "links columns" }, models.map((model) =>
        h("li", null, h("a", { href: `#/graph/models/${encodeURIComponent(model.slug)}` }, model.name)))));
    return;
  }
  const kind = SINGULAR[collection];
  const depth = ctx.query.get("depth") === "2" ? 2 : 1;
  const graph = await neighbourhood(ctx, kind, slug, depth);
  const here = `#/graph/${collection}/${encodeURIComponent(slug)}`;
  ctx.setTitle(`Graph · ${graph.center.name}`);
  ctx.view.append(h("article", { class: "graph-page", testid: "graph-view" },
    h("h1", null, `Around ${graph.center.name}`),
    h("p", null, `${graph.nodes.length - 1} entities within ${depth === 1 ? "one step" : "two steps"} of this ${kind}. Select a node to centre the drawing on it, or `,
      h("a", { href: nodeHref(graph.center) }, `open the ${kind}'s page`), "."),
    h("p", { class: "depth" }, "Show: ",
      depth === 1 ? h("strong", null, "one step") : h("a", { href: here }, "one step"), " · ",
      depth === 2 ? h("strong", null, "two steps") : h("a", { href: `${here}?depth=2`, testid: "graph-depth-2" }, "two steps")),
    h("div", { class: "graph-scroll" }, drawGraph(graph, graphHref)), legend(), edgeList(graph)));
}
