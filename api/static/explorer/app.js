// The explorer: a hash router over the views. Each view is an async function that fills <main>.

import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { renderEntity, renderSlide } from "./entity.js";
import { renderGraph } from "./graph.js";
import { renderIntroductions } from "./introductions.js";
import { renderSearch, setupSuggestions } from "./search.js";
import { renderTimeline } from "./timeline.js";

const ROUTES = [
  [/^\/timeline$/, "timeline", (ctx) => renderTimeline(ctx)],
  [/^\/introductions$/, "introductions", (ctx) => renderIntroductions(ctx)],
  [/^\/search$/, "search", (ctx) => renderSearch(ctx)],
  [/^\/(models|papers|labs|techniques)\/([^/]+)$/, "entity", (ctx, m) => renderEntity(ctx, m[1], m[2])],
  [/^\/slides\/(\d+)$/, "slide", (ctx, m) => renderSlide(ctx, m[1])],
  [/^\/graph(?:\/(models|papers|labs|techniques)\/([^/]+))?$/, "graph", (ctx, m) => renderGraph(ctx, m[1], m[2])],
];

const main = document.getElementById("main");
let current = null;
let rendered = 0;
let shownPath = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/timeline";
  const [path, search = ""] = raw.split("?");
  return { path, query: new URLSearchParams(search) };
}

/** The message shown when the API answers an error (problem+json) or does not answer. */
export function errorPanel(error, kindPath) {
  const problem = error instanceof ApiError ? error.problem : { title: "Something went wrong", detail: String(error) };
  const status = error instanceof ApiError && error.status ? `${error.status} · ` : "";
  const suggestions = (problem.suggestions || []).map((slug) =>
    h("li", null, h("a", { href: `#/${kindPath || "search?q="}${kindPath ? "/" : ""}${encodeURIComponent(slug)}` }, slug)),
  );
  return h("section", { class: "error", role: "alert", testid: "error" },
    h("h1", { tabindex: "-1" }, problem.title || "Error"),
    h("p", null, `${status}${problem.detail || ""}`),
    suggestions.length ? [h("p", null, "Did you mean:"), h("ul", { testid: "error-suggestions" }, suggestions)] : null,
    error.path ? h("p", { class: "muted" }, "The API answered this for ", h("code", null, error.path), ".") : null,
    h("p", null, h("a", { href: "#/timeline" }, "Back to the timeline")),
  );
}

function markNav(name) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route() {
  const { path, query } = parseHash();
  // A filter or sort control that changed the query of the same view keeps the focus.
  const active = document.activeElement;
  const keep = path === shownPath && main.contains(active) ? active.dataset.testid : null;
  if (current) current.abort();
  const controller = new AbortController();
  current = controller;
  const found = ROUTES.map(([pattern, name, view]) => [pattern.exec(path), name, view]).find(([m]) => m);
  const view = document.createElement("div");
  view.className = "view";
  const ctx = {
    view,
    query,
    signal: controller.signal,
    setTitle: (title) => { document.title = `${title} · paperkg explorer`; },
  };
  markNav(found ? found[1] : null);
  main.setAttribute("aria-busy", "true");
  const loading = setTimeout(() => {
    if (current === controller) main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  }, 150);
  try {
    if (!found) {
      throw new ApiError(404, { title: "No such page", detail: `The explorer has no page ${path}.` }, null);
    }
    const [match, , render] = found;
    await render(ctx, match.map((part) => (part === undefined ? undefined : decodeURIComponent(part))));
  } catch (error) {
    if (error.name === "AbortError" || current !== controller) return;
    ctx.setTitle("Error");
    view.replaceChildren(errorPanel(error, found && found[1] === "entity" ? path.split("/")[1] : null));
  } finally {
    clearTimeout(loading);
  }
  if (current !== controller) return;
  main.replaceChildren(view);
  main.removeAttribute("aria-busy");
  main.dataset.route = found ? found[1] : "none";
  shownPath = path;
  // After a navigation the new view's heading takes the focus (the page load keeps the
  // document's own order, so the first Tab reaches the skip button).
  rendered += 1;
  const kept = keep ? main.querySelector(`[data-testid="${CSS.escape(keep)}"]`) : null;
  const heading = main.querySelector("h1");
  if (kept) {
    kept.focus({ preventScroll: true });
    kept.scrollIntoView({ block: "nearest" });
  } else {
    window.scrollTo(0, 0);
    if (rendered > 1 && heading && document.activeElement?.id !== "q") {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }
}

document.getElementById("skip").addEventListener("click", () => main.focus());
window.addEventListener("hashchange", route);
setupSuggestions(document.getElementById("q"), document.getElementById("suggestions"));
route();
