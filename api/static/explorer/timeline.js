// The timeline: models and papers along time, one lane (column) per lab, filterable.

import { get, getAll, query } from "./api.js";
import { formatDate, h, routeOfUrl } from "./dom.js";

const KIND_LABELS = { model: "Models", paper: "Papers", technique: "Technique proposals" };
const DEFAULT_KINDS = ["model", "paper"];
const NO_LAB = "";

function readFilters(params) {
  const kinds = (params.get("kind") || DEFAULT_KINDS.join(",")).split(",").filter((k) => k in KIND_LABELS);
  return {
    lab: params.get("lab") || "",
    technique: params.get("technique") || "",
    from: params.get("from") || "",
    to: params.get("to") || "",
    kind: kinds.length ? kinds : DEFAULT_KINDS,
  };
}

function hashFor(filters) {
  const kinds = filters.kind.join(",") === DEFAULT_KINDS.join(",") ? "" : filters.kind.join(",");
  return `#/timeline${query({ ...filters, kind: kinds })}`;
}

function select(name, label, options, value, onChange) {
  const id = `filter-${name}`;
  return h("label", { class: "filter", for: id }, h("span", null, label),
    h("select", { id, name, testid: id, onchange: (event) => onChange(event.target.value) },
      options.map(([optionValue, text]) => {
        const option = h("option", { value: optionValue }, text);
        option.selected = optionValue === value;
        return option;
      })));
}

function filterBar(filters, labs, techniques, years) {
  const go = (change) => { location.hash = hashFor({ ...filters, ...change }); };
  const yearOptions = [["", "any"], ...years.map((year) => [String(year), String(year)])];
  const kindBoxes = Object.entries(KIND_LABELS).map(([kind, label]) => {
    const box = h("input", {
      type: "checkbox", value: kind, testid: `filter-kind-${kind}`,
      onchange: (event) => {
        const chosen = new Set(filters.kind);
        if (event.target.checked) chosen.add(kind); else chosen.delete(kind);
        const kinds = Object.keys(KIND_LABELS).filter((k) => chosen.has(k));
        go({ kind: kinds.length ? kinds : DEFAULT_KINDS });
      },
    });
    box.checked = filters.kind.includes(kind);
    return h("label", { class: `check check-${kind}` }, box, ` ${label}`);
  });
  const active = filters.lab || filters.technique || filters.from || filters.to;
  return h("form", { class: "filters", testid: "timeline-filters", "aria-label": "Filter the timeline",
    onsubmit: (event) => event.preventDefault() },
  select("lab", "Lab", [["", "all labs"], ...labs.map((lab) => [lab.slug, lab.name])], filters.lab, (lab) => go({ lab })),
  select("technique", "Technique", [["", "any technique"], ...techniques.map((t) => [t.slug, t.name])],
    filters.technique, (technique) => go({ technique })),
  select("from", "From", yearOptions, filters.from, (from) => go({ from })),
  select("to", "To", yearOptions, filters.to, (to) => go({ to })),
  h("fieldset", { class: "kinds" }, h("legend", null, "Show"), kindBoxes),
  active ? h("a", { class: "reset", href: hashFor({ kind: filters.kind, lab: "", technique: "", from: "", to: "" }) }, "Clear filters") : null);
}

function eventChip(event, labName) {
  const [, month, day] = event.date.split("-");
  const when = day ? formatDate(event.date).replace(/ \d{4}$/, "") : month ? "" : "year only";
  return h("a", {
    class: `event event-${event.kind}`, href: routeOfUrl(event.entity.url), title: `${event.title} (${formatDate(event.date)})`,
    testid: "timeline-event", "data-kind": event.kind, "data-slug": event.entity.slug,
    "data-lab": event.lab ? event.lab.slug : "", "data-date": event.date,
  },
  h("span", { class: "event-name" }, event.entity.name),
  h("span", { class: "event-meta" },
    [event.kind === "technique" ? "proposed" : event.kind, when].filter(Boolean).join(" · "),
    h("span", { class: "event-lab" }, ` · ${labName}`)));
}

function monthKey(date) {
  return date.slice(0, 7);
}

function grid(events, lanes) {
  const byMonth = new Map();
  for (const event of events) {
    const key = monthKey(event.date);
    if (!byMonth.has(key)) byMonth.set(key, []);
    byMonth.get(key).push(event);
  }
  const rows = [];
  let year = null;
  for (const [month, monthEvents] of byMonth) {
    if (month.slice(0, 4) !== year) {
      year = month.slice(0, 4);
      rows.push(h("tr", { class: "year-row" }, h("th", { colspan: lanes.length + 1, scope: "rowgroup" }, year)));
    }
    rows.push(h("tr", { class: "month-row" },
      h("th", { scope: "row", class: "when" }, formatDate(month)),
      lanes.map((lane) => {
        const here = monthEvents.filter((event) => (event.lab ? event.lab.slug : NO_LAB) === lane.slug);
        return h("td", { class: here.length ? "lane" : "lane vacant", "data-lane": lane.slug || "none" },
          here.map((event) => eventChip(event, lane.name)));
      })));
  }
  return h("div", { class: "timeline-wrap" },
    h("table", { class: "timeline", testid: "timeline" },
      h("caption", { class: "sr-only" }, "Events by month (rows) and lab (columns)"),
      h("thead", null, h("tr", null, h("th", { scope: "col", class: "when" }, "When"),
        lanes.map((lane) => h("th", { scope: "col", "data-lane": lane.slug || "none" }, lane.name)))),
      h("tbody", null, rows)));
}

export async function renderTimeline(ctx) {
  const filters = readFilters(ctx.query);
  const apiQuery = query({ lab: filters.lab, technique: filters.technique, from: filters.from, to: filters.to, kind: filters.kind, limit: 500 });
  const [labs, techniques, events, everything] = await Promise.all([
    getAll("/labs?limit=500", ctx),
    getAll("/techniques?limit=500", ctx),
    getAll(`/timeline${apiQuery}`, ctx),
    get("/timeline?group=year", ctx),
  ]);
  const years = everything.items.map((group) => Number(group.key ?? group.year ?? String(group.date || "").slice(0, 4)))
    .filter((year) => year > 0);
  const seen = new Map();
  for (const event of events) {
    const slug = event.lab ? event.lab.slug : NO_LAB;
    if (!seen.has(slug)) seen.set(slug, event.lab ? event.lab.name : "No lab");
  }
  const lanes = [...seen.entries()].map(([slug, name]) => ({ slug, name }))
    .sort((a, b) => (a.slug === NO_LAB) - (b.slug === NO_LAB));
  ctx.setTitle("Timeline");
  ctx.view.append(
    h("h1", null, "Timeline"),
    h("p", { class: "lead" }, "Open models and the papers behind them, month by month, one column per lab. Select an event to open it."),
    filterBar(filters, labs, techniques, [...new Set(years)].sort()),
    h("p", { class: "count", testid: "timeline-count", role: "status" },
      events.length === 1 ? "1 event" : `${events.length} events`),
    events.length ? grid(events, lanes) : h("p", { class: "empty" }, "No event matches these filters."),
  );
}
