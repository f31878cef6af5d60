// Provenance: slide quotes and named references, shown next to the fact they support.

import { externalLink, h } from "./dom.js";

function referenceHref(source) {
  const arxiv = /^arXiv:(\S+)$/i.exec(source);
  if (arxiv) return `https://arxiv.org/abs/${arxiv[1]}`;
  return /^https?:\/\//.test(source) ? source : null;
}

function shortSource(source) {
  try {
    const url = new URL(source);
    const path = url.pathname.length > 32 ? `${url.pathname.slice(0, 30)}…` : url.pathname;
    return `${url.hostname}${path}`;
  } catch {
    return source;
  }
}

/** One source: a slide quote (with a link to its slide) or a reference. */
export function sourceItem(source) {
  if (source.kind === "slide") {
    return h("li", { class: "source slide-source" },
      h("blockquote", { testid: "slide-quote" }, `“${source.quote}”`),
      h("span", { class: "cite" },
        h("a", { href: `#/slides/${source.slide}` }, `Slide ${source.slide}`),
        source.title ? ` · ${source.title}` : ""),
      source.note ? h("p", { class: "note" }, source.note) : null,
    );
  }
  const href = referenceHref(source.source || "");
  return h("li", { class: "source reference-source", testid: "reference" },
    h("span", { class: "cite" },
      "Reference ",
      source.reference_id ? h("code", null, source.reference_id) : null,
      ": ",
      href ? externalLink(href, shortSource(source.source)) : source.source),
    source.note ? h("p", { class: "note" }, source.note) : null,
  );
}

/** A list of sources, or nothing when there are none. */
export function sourceList(sources, label) {
  if (!sources || !sources.length) return null;
  const slides = sources.filter((source) => source.kind === "slide");
  const references = sources.filter((source) => source.kind !== "slide");
  return h("ul", { class: "sources", "aria-label": label || "Sources" },
    [...slides, ...references].map(sourceItem));
}

/** Sources as a disclosure: quotes shown, references folded away when there are many. */
export function sourceBlock(sources, label) {
  if (!sources || !sources.length) return null;
  const slides = sources.filter((source) => source.kind === "slide");
  const references = sources.filter((source) => source.kind !== "slide");
  return h("div", { class: "source-block" },
    slides.length ? sourceList(slides, label) : null,
    references.length
      ? h("details", { class: "refs" },
        h("summary", null, references.length === 1 ? "1 reference" : `${references.length} references`),
        sourceList(references, label))
      : null,
  );
}
