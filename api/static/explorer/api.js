// The only door to the service: the public JSON API, with problem+json errors made readable.

export class ApiError extends Error {
  constructor(status, problem, path) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.path = path;
  }
}

const answers = new Map();

async function fetchJson(path, signal) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, {
      title: "The service does not answer",
      detail: `Could not reach ${path}. Is paperkg serve running?`,
    }, path);
  }
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    throw new ApiError(response.status, body || { title: response.statusText || "Error" }, path);
  }
  if (body === null) {
    throw new ApiError(response.status, { title: "Not JSON", detail: `${path} did not answer JSON.` }, path);
  }
  return body;
}

/** GET one API path; successful answers are kept for the session (the data is read-only here). */
export async function get(path, { signal } = {}) {
  if (answers.has(path)) return answers.get(path);
  const body = await fetchJson(path, signal);
  answers.set(path, body);
  return body;
}

/** Every item of a list, following `next` links (at most `pages` pages). */
export async function getAll(path, { signal, pages = 20 } = {}) {
  const items = [];
  let next = path;
  for (let page = 0; next && page < pages; page += 1) {
    const body = await get(next, { signal });
    items.push(...body.items);
    next = body.next;
  }
  return items;
}

/** A query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    search.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
