// Search: suggestions as you type (debounced, from /search) and a full results page.

import { get, query } from "./api.js";
import { debounce, h, routeOfUrl } from "./dom.js";

const DELAY_MS = 200;

/** "Multi-head «latent» attention" -> text with <mark> around the matched words. */
function snippet(text) {
  if (!text) return null;
  return text.split(/«|»/).map((part, i) => (i % 2 ? h("mark", null, part) : part));
}

function resultHref(item) {
  if (item.kind === "slide") return `#/slides/${item.number}`;
  return routeOfUrl(item.url);
}

function resultName(item) {
  return item.kind === "slide" ? `Slide ${item.number}: ${item.name}` : item.name;
}

/** The combobox in the header: arrows move, Enter opens, Escape closes. */
export function setupSuggestions(input, listbox) {
  let items = [];
  let active = -1;
  let asked = "";

  const close = () => {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    [...listbox.children].forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", `suggestion-${index}`);
    else input.removeAttribute("aria-activedescendant");
  };
  const open = (href) => {
    close();
    input.blur();
    location.hash = href;
  };
  const show = (found, text) => {
    items = found;
    const options = found.map((item, i) => h("li", {
      id: `suggestion-${i}`, role: "option", "aria-selected": "false", testid: "suggestion",
      "data-kind": item.kind, "data-slug": item.slug,
      onmousedown: (event) => { event.preventDefault(); open(resultHref(item)); },
    }, h("span", { class: `kind kind-${item.kind}` }, item.kind), " ", resultName(item)));
    if (!found.length) options.push(h("li", { class: "none", role: "presentation" }, `Nothing matches “${text}”.`));
    options.push(h("li", { class: "all", role: "presentation" },
      h("a", { href: `#/search${query({ q: text })}`, tabindex: "-1", onmousedown: (event) => { event.preventDefault(); open(`#/search${query({ q: text })}`); } },
        "All results")));
    listbox.replaceChildren(...options);
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(-1);
  };
  const suggest = debounce(async () => {
    const text = input.value.trim();
    if (!text) { close(); return; }
    asked = text;
    try {
      const answer = await get(`/search${query({ q: text, limit: 8 })}`);
      if (asked === text && input.value.trim() === text) show(answer.items, text);
    } catch (error) {
      listbox.replaceChildren(h("li", { class: "none error", role: "alert" }, `Search failed: ${error.message}`));
      listbox.hidden = false;
    }
  }, DELAY_MS);

  input.addEventListener("input", suggest);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      highlight(Math.min(active + 1, items.length - 1));
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      highlight(Math.max(active - 1, -1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      const text = input.value.trim();
      suggest.cancel();
      if (active >= 0 && items[active] && !listbox.hidden) open(resultHref(items[active]));
      else if (text) open(`#/search${query({ q: text })}`);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
  window.addEventListener("hashchange", close);
}

export async function renderSearch(ctx) {
  const text = (ctx.query.get("q") || "").trim();
  ctx.setTitle(text ? `Search: ${text}` : "Search");
  const form = h("form", { class: "search-page", role: "search", onsubmit: (event) => {
    event.preventDefault();
    const value = event.target.elements.q.value.trim();
    if (value) location.hash = `#/search${query({ q: value })}`;
  } },
  h("label", { for: "search-page-q" }, "Search the graph"),
  h("input", { id: "search-page-q", name: "q", type: "search", value: text, testid: "search-page-input" }),
  h("button", { type: "submit" }, "Search"));
  ctx.view.append(h("h1", null, text ? `Results for “${text}”` : "Search"), form);
  if (!text) return;
  const answer = await get(`/search${query({ q: text, limit: 50 })}`, ctx);
  ctx.view.append(answer.items.length
    ? h("ol", { class: "results", testid: "search-results" }, answer.items.map((item) =>
      h("li", null,
        h("span", { class: `kind kind-${item.kind}` }, item.kind), " ",
        h("a", { href: resultHref(item), testid: "search-result", "data-slug": item.slug }, resultName(item)),
        item.snippet ? h("p", { class: "snippet" }, snippet(item.snippet)) : null)))
    : h("p", { class: "empty" }, `Nothing matches “${text}”.`));
}
