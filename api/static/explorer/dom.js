// Small DOM helpers: every node is built with DOM APIs (no innerHTML, no inline styles).

const SVG_NS = "http://www.w3.org/2000/svg";

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function setAttributes(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (name === "testid") {
      node.setAttribute("data-testid", value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  return node;
}

/** An HTML element: h("a", {href: "#/labs/meta"}, "Meta"). */
export function h(tag, attrs, ...children) {
  return append(setAttributes(document.createElement(tag), attrs), children);
}

/** An SVG element, in the SVG namespace. */
export function s(tag, attrs, ...children) {
  return append(setAttributes(document.createElementNS(SVG_NS, tag), attrs), children);
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

const KIND_PATHS = { model: "models", paper: "papers", lab: "labs", technique: "techniques" };

/** The explorer route of an entity: {kind: "model", slug} or an API url "/models/x". */
export function routeOf(kind, slug) {
  return `#/${KIND_PATHS[kind] || kind}/${encodeURIComponent(slug)}`;
}

/** The explorer route for an API path ("/models/llama-2" -> "#/models/llama-2"). */
export function routeOfUrl(url) {
  const slide = /^\/(?:decks\/[^/]+\/)?slides\/(\d+)$/.exec(url || "");
  if (slide) return `#/slides/${slide[1]}`;
  return `#${url}`;
}

/** A link to an entity given its API reference ({slug, name, url}). */
export function entityLink(ref, kind) {
  if (!ref) return null;
  const href = ref.url ? routeOfUrl(ref.url) : routeOf(kind, ref.slug);
  return h("a", { href, "data-slug": ref.slug }, ref.name || ref.title || ref.slug);
}

export function externalLink(url, text) {
  return h("a", { href: url, rel: "noopener noreferrer", target: "_blank", class: "ext" }, text || url);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2023-07-18" -> "18 Jul 2023", "2023-07" -> "Jul 2023", "2023" -> "2023". */
export function formatDate(date) {
  if (!date) return "unknown";
  const [year, month, day] = String(date).split("-");
  if (!month) return year;
  const name = MONTHS[Number(month) - 1];
  return day ? `${Number(day)} ${name} ${year}` : `${name} ${year}`;
}

/** 236000000000 -> "236B"; 12900000000 -> "12.9B". */
export function formatCount(value) {
  if (value === null || value === undefined) return null;
  const units = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
  for (const [size, unit] of units) {
    if (value >= size) return `${Number((value / size).toPrecision(4))}${unit}`;
  }
  return String(value);
}

/** Debounce: run fn once `wait` ms after the last call. */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
