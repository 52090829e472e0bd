// Shared helpers of every page: the API client, safe DOM building, language, URL state.
//
// Stored text (names, ids, kinds, attributes, titles, notes, sources) is only ever put
// into the page as text (textContent, setAttribute) or, where a library needs an HTML
// string, through escapeHtml. Nothing here builds HTML from data in any other way.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** The one escape function for text placed into HTML strings (content and attributes). */
export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** An error answer of the API: `{"error": {"code", "message", "details"}}` and its status. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details ?? null;
  }
}

/**
 * Fetch `path` from the API and return its JSON. Errors (the API's error shape, or a
 * failed request) are shown in #status unless `quiet`, and thrown as ApiError.
 */
export async function api(path, { method = "GET", body, headers = {}, quiet = false, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      body,
      signal,
      headers: { Accept: "application/json", ...headers },
    });
  } catch (exc) {
    if (exc.name === "AbortError") throw exc;
    const error = new ApiError(0, "network", `the server did not answer (${exc.message})`);
    if (!quiet) showStatus(error.message, "error");
    throw error;
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const shape = data && typeof data === "object" && data.error ? data.error : null;
    const error = shape
      ? new ApiError(response.status, shape.code, shape.message, shape.details)
      : new ApiError(response.status, "http", `${response.status} ${response.statusText}`);
    if (!quiet) showStatus(`${error.message} [${error.code}]`, "error");
    throw error;
  }
  return data;
}

/** Show a message in the page's #status line; kind is "info", "ok" or "error". */
export function showStatus(message, kind = "info") {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = message;
  status.dataset.kind = kind;
  status.hidden = !message;
}

export function clearStatus() {
  showStatus("");
}

/**
 * Build an element: `el("a", {href, class, text, attrs, dataset, on}, ...children)`.
 * Strings among the children become text nodes; `href` is kept only if it is safe.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "href") node.setAttribute("href", String(value));
    else if (key === "attrs") for (const [k, v] of Object.entries(value)) node.setAttribute(k, String(v));
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") for (const [k, v] of Object.entries(value)) node.addEventListener(k, v);
    else if (key === "style") for (const [k, v] of Object.entries(value)) node.style.setProperty(k, v);
    else node[key] = value;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content with the given children (text or nodes). */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** `url` if it is an absolute http(s) URL, else null: only those become links. */
export function safeUrl(url) {
  if (typeof url !== "string") return null;
  const trimmed = url.trim();
  if (!/^https?:\/\//i.test(trimmed)) return null;
  try {
    const parsed = new URL(trimmed);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A source: a link (opened safely) when it is an http(s) URL, otherwise plain text. */
export function sourceNode(source) {
  const href = safeUrl(source);
  if (!href) return el("span", { class: "source", text: source });
  return el("a", {
    class: "source",
    href,
    text: source,
    attrs: { rel: "noopener noreferrer nofollow", target: "_blank" },
  });
}

// ----------------------------------------------------------------- URL state

export function params() {
  return new URLSearchParams(window.location.search);
}

/** Update the query string without a new history entry; null or "" removes a key. */
export function setParams(values) {
  const query = params();
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined || value === "") query.delete(key);
    else query.set(key, value);
  }
  const search = query.toString();
  const url = `${window.location.pathname}${search ? `?${search}` : ""}${window.location.hash}`;
  window.history.replaceState(window.history.state, "", url);
}

export function unitHref(id, { at, lang } = {}) {
  const query = new URLSearchParams();
  if (at) query.set("at", at);
  if (lang) query.set("lang", lang);
  const search = query.toString();
  return `/units/${encodeURIComponent(id)}${search ? `?${search}` : ""}`;
}

export function changesetHref(id) {
  return `/changesets/${encodeURIComponent(id)}`;
}

export function chartHref({ at, lang, unit } = {}) {
  const query = new URLSearchParams();
  if (at) query.set("at", at);
  if (lang) query.set("lang", lang);
  if (unit) query.set("unit", unit);
  const search = query.toString();
  return `/${search ? `?${search}` : ""}`;
}

// ----------------------------------------------------------------- dates and numbers

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDay(value) {
  if (typeof value !== "string" || !ISO_DAY.test(value)) return false;
  const day = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === value;
}

/** Today in the browser's time zone, as YYYY-MM-DD. */
export function today() {
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

export function addDays(iso, days) {
  const day = new Date(`${iso}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

/** A share in [0, 1] as a percentage for people. */
export function percent(share) {
  const value = Number(share) * 100;
  if (!Number.isFinite(value)) return "";
  if (value > 0 && value < 1) return "<1%";
  return `${Math.round(value)}%`;
}

export function magnitudeText(value) {
  const number = Number(value);
  return Number.isFinite(number) ? number.toFixed(2) : "";
}

/** A magnitude bar: a track and a bar whose width is the magnitude (0..1). */
export function magnitudeBar(value) {
  const share = Math.max(0, Math.min(1, Number(value) || 0));
  const bar = el("span", { class: "bar" });
  bar.style.width = `${(share * 100).toFixed(1)}%`;
  return el("span", { class: "bar-track", attrs: { "aria-hidden": "true" } }, bar);
}

// ----------------------------------------------------------------- language

const LANG_KEY = "orgledger.lang";
const LANG_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
const languages = new Set(["en"]);
const listeners = [];
let current = "en";

function stored() {
  try {
    return window.localStorage.getItem(LANG_KEY);
  } catch {
    return null;
  }
}

/** The chosen language: ?lang=, else the last one chosen, else English. */
export function currentLang() {
  return current;
}

/** Set up the #lang switch; `onChange(lang)` is called when people pick another one. */
export function initLanguage(onChange) {
  const wanted = params().get("lang") || stored() || "en";
  current = LANG_TAG.test(wanted) ? wanted : "en";
  languages.add(current);
  if (onChange) listeners.push(onChange);
  const select = document.getElementById("lang");
  if (select && !select.dataset.ready) {
    select.dataset.ready = "1";
    select.addEventListener("change", () => setLang(select.value));
  }
  renderLanguages();
  document.documentElement.lang = current;
  return current;
}

export function setLang(lang) {
  if (!LANG_TAG.test(lang) || lang === current) return;
  current = lang;
  languages.add(lang);
  try {
    window.localStorage.setItem(LANG_KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = lang;
  if (params().has("lang") || document.body.dataset.page === "chart") setParams({ lang });
  renderLanguages();
  for (const listener of listeners) listener(lang);
}

/** Offer the languages of these names maps in the switch. */
export function addLanguages(namesList) {
  let added = false;
  for (const names of namesList) {
    for (const lang of Object.keys(names || {})) {
      if (LANG_TAG.test(lang) && !languages.has(lang)) {
        languages.add(lang);
        added = true;
      }
    }
  }
  if (added) renderLanguages();
}

function renderLanguages() {
  const select = document.getElementById("lang");
  if (!select) return;
  const sorted = [...languages].sort((a, b) => (a === "en" ? -1 : b === "en" ? 1 : a.localeCompare(b)));
  const have = [...select.options].map((o) => o.value);
  if (have.join() !== sorted.join()) {
    fill(select, ...sorted.map((lang) => el("option", { value: lang, text: lang })));
  }
  select.value = current;
}

/** The name in `lang`, else English, else the first name, else the fallback (the id). */
export function pickName(names, lang = current, fallback = "") {
  if (names && typeof names === "object") {
    if (lang && names[lang]) return names[lang];
    if (names.en) return names.en;
    const first = Object.values(names)[0];
    if (first) return first;
  }
  return fallback;
}

/** "Name (ABBR)" for people. */
export function label(unit, lang = current) {
  if (!unit) return "";
  const name = pickName(unit.names, lang, unit.id);
  return unit.abbr && unit.abbr !== name ? `${name} (${unit.abbr})` : name;
}

// ----------------------------------------------------------------- names of any unit

/**
 * Names of units the page mentions but has not loaded (ended units, lineage), read
 * once each from /api/v1/units/ID (its latest state) and cached.
 */
export class NameBook {
  constructor() {
    this.units = new Map();
  }

  add(unit) {
    if (unit && unit.id && !this.units.has(unit.id)) this.units.set(unit.id, unit);
  }

  get(id) {
    return this.units.get(id) || null;
  }

  async ensure(ids, limit = 200) {
    const missing = [...new Set(ids)].filter((id) => id && !this.units.has(id)).slice(0, limit);
    await pool(missing, 8, async (id) => {
      try {
        const found = await api(`/api/v1/units/${encodeURIComponent(id)}`, { quiet: true });
        this.units.set(id, found.unit || found.latest || { id, names: {} });
      } catch {
        this.units.set(id, { id, names: {} });
      }
    });
    addLanguages([...this.units.values()].map((u) => u.names));
  }

  label(id, lang = current) {
    const unit = this.units.get(id);
    return unit ? label({ ...unit, id }, lang) : id;
  }
}

/** Run `work` over `items`, at most `size` at a time. */
export async function pool(items, size, work) {
  const queue = [...items];
  const runners = Array.from({ length: Math.min(size, queue.length) }, async () => {
    while (queue.length) await work(queue.shift());
  });
  await Promise.all(runners);
}

/** A link to a unit page showing the unit's label and id. */
export function unitLink(id, book, { at, lang } = {}) {
  const text = book ? book.label(id, lang) : id;
  const link = el("a", { href: unitHref(id, { at, lang }), class: "unit-link" }, text);
  if (text !== id) link.append(" ", el("span", { class: "id", text: id }));
  return link;
}

export function changesetLink(id) {
  return el("a", { href: changesetHref(id), class: "mono", text: id });
}

// ----------------------------------------------------------------- files

/** Save a blob as a download named `name`. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** `fn` called `wait` ms after the last call; `.cancel()` drops a pending call. */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
