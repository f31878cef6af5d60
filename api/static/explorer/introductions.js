// Who introduced what: the /introductions table, sortable, with adopters on demand.

import { get, getAll } from "./api.js";
import { entityLink, formatDate, h } from "./dom.js";

const COLUMNS = [
  { key: "technique", label: "Technique", value: (row) => row.technique.name.toLowerCase() },
  { key: "category", label: "Category", value: (row) => row.technique.category || "" },
  { key: "date", label: "Proposed", value: (row) => row.date || "9999" },
  { key: "paper", label: "Origin paper", value: (row) => (row.paper ? row.paper.name.toLowerCase() : "~") },
  { key: "introduced", label: "Introduced by", value: (row) => (row.introduced_by[0]?.name || "~").toLowerCase() },
  { key: "first", label: "First adopter", value: (row) => row.first_adopter?.release_date || "9999" },
  { key: "adopters", label: "Adopters", value: (row) => row.adopters_count },
];

function sortRows(rows, sort) {
  const descending = sort.startsWith("-");
  const column = COLUMNS.find((c) => c.key === sort.replace(/^-/, "")) || COLUMNS[2];
  const sorted = [...rows].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    return (x < y ? -1 : x > y ? 1 : 0) || a.technique.slug.localeCompare(b.technique.slug);
  });
  return descending ? sorted.reverse() : sorted;
}

function headerCell(column, sort) {
  const active = sort.replace(/^-/, "") === column.key;
  const descending = active && sort.startsWith("-");
  const next = active && !descending ? `-${column.key}` : column.key;
  return h("th", { scope: "col", "aria-sort": active ? (descending ? "descending" : "ascending") : "none" },
    h("a", { href: `#/introductions?sort=${next}`, class: "sort", testid: `sort-${column.key}` },
      column.label, h("span", { class: "arrow", "aria-hidden": "true" }, active ? (descending ? " ▼" : " ▲") : "")));
}

function adoptersCell(row, span) {
  const holder = h("tr", { class: "adopters-row", hidden: true },
    h("td", { colspan: span }, h("p", { class: "loading" }, "Loading adopters…")));
  const button = h("button", {
    type: "button", class: "link-button", "aria-expanded": "false", testid: "show-adopters",
    onclick: async () => {
      const open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", String(!open));
      holder.hidden = open;
      if (open || holder.dataset.loaded) return;
      try {
        const origin = await get(`/techniques/${encodeURIComponent(row.technique.slug)}/introduced-by`);
        holder.dataset.loaded = "1";
        holder.firstChild.replaceChildren(
          h("span", { class: "muted" }, `Models using ${row.technique.name}, oldest first: `),
          h("ol", { class: "inline-list", testid: "adopters" }, origin.adopters.map((model) =>
            h("li", null, entityLink(model), h("span", { class: "muted" }, ` (${formatDate(model.release_date)}${model.role === "introduced" ? ", introduced" : ""})`)))));
      } catch (error) {
        holder.firstChild.replaceChildren(h("p", { class: "error", role: "alert" }, `Could not load the adopters: ${error.message}`));
      }
    },
  }, row.adopters_count === 1 ? "1 model" : `${row.adopters_count} models`);
  return [row.adopters_count ? button : h("span", { class: "muted" }, "none"), holder];
}

/** On a phone the column headers are hidden: the same sort orders, as a select. */
function sortSelect(sort) {
  const choices = COLUMNS.flatMap((column) => [[column.key, `${column.label} ▲`], [`-${column.key}`, `${column.label} ▼`]]);
  return h("label", { class: "sort-select phone-only", for: "sort-by" }, "Sort by",
    h("select", { id: "sort-by", onchange: (event) => { location.hash = `#/introductions?sort=${event.target.value}`; } },
      choices.map(([value, label]) => {
        const option = h("option", { value }, label);
        option.selected = value === sort;
        return option;
      })));
}

export async function renderIntroductions(ctx) {
  const sort = ctx.query.get("sort") || "date";
  const rows = sortRows(await getAll("/introductions?limit=500", ctx), sort);
  ctx.setTitle("Who introduced what");
  const body = h("tbody");
  for (const row of rows) {
    const [adopters, holder] = adoptersCell(row, COLUMNS.length);
    body.append(h("tr", { testid: "introduction", "data-slug": row.technique.slug },
      h("th", { scope: "row" }, entityLink(row.technique, "technique")),
      h("td", { "data-label": "Category" }, row.technique.category),
      h("td", { class: "nowrap", "data-label": "Proposed" }, row.date ? formatDate(row.date) : h("span", { class: "muted" }, "not verified")),
      h("td", { "data-label": "Origin paper" }, row.paper ? entityLink(row.paper, "paper") : h("span", { class: "muted" }, "unknown")),
      h("td", { testid: "introduced-by", "data-label": "Introduced by" }, row.introduced_by.length
        ? row.introduced_by.map((model, i) => [i ? ", " : "", entityLink(model, "model")])
        : h("span", { class: "muted" }, "no model here")),
      h("td", { "data-label": "First adopter" }, row.first_adopter
        ? [entityLink(row.first_adopter, "model"), h("span", { class: "muted" }, ` · ${formatDate(row.first_adopter.release_date)}`)]
        : h("span", { class: "muted" }, "none")),
      h("td", { "data-label": "Adopters" }, adopters)), holder);
  }
  ctx.view.append(
    h("h1", null, "Who introduced what"),
    h("p", { class: "lead" }, "A model introduced a technique when its own paper first proposed it; every other model that has it uses it. Select a column to sort."),
    sortSelect(sort),
    h("div", { class: "table-wrap" }, h("table", { class: "grid stack introductions", testid: "introductions" },
      h("thead", null, h("tr", null, COLUMNS.map((column) => headerCell(column, sort)))),
      body)));
}
