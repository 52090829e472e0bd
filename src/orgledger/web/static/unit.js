// The unit page: facts (names in every language, path, links), its history as a
// timeline, its lineage as a small graph, and its metrics as small line charts.

import {
  $,
  NameBook,
  addDays,
  addLanguages,
  api,
  changesetLink,
  chartHref,
  currentLang,
  el,
  fill,
  initLanguage,
  isIsoDay,
  label,
  params,
  percent,
  pickName,
  showStatus,
  sourceNode,
  unitHref,
  unitLink,
} from "./common.js";
import { namesText, valueText } from "./changes.js";

const id = document.body.dataset.unit;
const book = new NameBook();
const SVG = "http://www.w3.org/2000/svg";
let found = null; // the answer of /api/v1/units/ID on the date shown
let events = [];
let lineage = null;
let metrics = {};

// ------------------------------------------------------------------ facts

function fact(name, ...value) {
  return [el("dt", { text: name }), el("dd", {}, ...value)];
}

function renderFacts() {
  const lang = currentLang();
  const unit = found.unit || found.latest;
  const name = pickName(unit.names, lang, id);
  fill(
    $("#title"),
    el("span", { class: "title-name", text: name }),
    unit.abbr ? el("span", { class: "title-abbr", text: ` (${unit.abbr})` }) : null,
    " ",
    el("span", { class: "id", text: id }),
  );
  $("#title").classList.remove("mono");
  document.title = `${name} · orgledger`;
  const at = found.at;
  const attrs = Object.entries(unit.attrs || {});
  const links = unit.links || [];
  const names = Object.entries(unit.names || {});
  fill(
    $("#facts"),
    fact("Names", el("ul", {}, names.map(([l, n]) => el("li", {}, el("span", { class: "muted", text: `${l}: ` }), n)))),
    unit.abbr ? fact("Abbreviation", unit.abbr) : [],
    fact("Kind", unit.kind),
    fact("Active", found.to ? `from ${found.from} until ${found.to} (ended)` : `since ${found.from}`),
    fact(
      found.active ? `Path on ${at}` : "Path",
      found.path.length
        ? found.path.map((step, i) => [i ? " › " : "", step === id ? el("strong", { text: label(book.get(step) || unit, lang) }) : unitLink(step, book, { at, lang })])
        : el("span", { class: "muted", text: "not in the structure on this date" }),
    ),
    attrs.length ? fact("Attributes", el("ul", {}, attrs.map(([k, v]) => el("li", {}, el("span", { class: "muted", text: `${k}: ` }), String(v))))) : [],
    links.length
      ? fact(
          "Links",
          el(
            "ul",
            {},
            links.map((link) => el("li", {}, el("span", { class: "muted", text: `${link.type} → ` }), unitLink(link.to, book, { at, lang }))),
          ),
        )
      : [],
    fact(
      "On the chart",
      found.active
        ? el("a", { href: chartHref({ at, lang, unit: id }), text: `show on the chart of ${at}` })
        : el("span", { class: "muted", text: "—" }),
    ),
  );
}

// ------------------------------------------------------------------ history

const ACTION_CLASS = {
  created: "added",
  ended: "removed",
  moved: "moved",
  renamed: "renamed",
  changed: "changed",
  "gained-child": "moved",
  "lost-child": "moved",
  received: "added",
  linked: "changed",
  unlinked: "changed",
};

function eventDetails(event) {
  const lang = currentLang();
  const link = (ref) => (ref ? unitLink(ref, book, { at: event.date, lang }) : el("span", { text: "the top level" }));
  switch (event.action) {
    case "created":
      return [
        event.parent ? ["under ", link(event.parent)] : "as a root",
        ` as ${event.kind}; ${namesText(event.names)}`,
      ];
    case "ended":
      return [
        `by ${event.how}`,
        (event.successors || []).length
          ? ["; went to ", event.successors.map((s, i) => [i ? ", " : "", link(s.to), ` ${percent(s.share)}`])]
          : "; no successor",
      ];
    case "moved":
      return ["from ", link(event.from), " to ", link(event.to)];
    case "renamed":
      return [`from ${namesText(event.from)} to ${namesText(event.to)}`];
    case "changed":
      return [`${event.field} from ${valueText(event.from)} to ${valueText(event.to)}`];
    case "gained-child":
      return [link(event.child), event.from ? [" from ", link(event.from)] : " (new)"];
    case "lost-child":
      return [link(event.child), " to ", link(event.to)];
    case "received":
      return ["from ", link(event.from), ` (${event.how}, ${percent(event.share)})`];
    case "linked":
    case "unlinked":
      return [`${event.type} `, link(event.to)];
    default: {
      const known = new Set(["date", "changeset", "op", "op_kind", "action"]);
      return Object.entries(event)
        .filter(([k]) => !known.has(k))
        .map(([k, v]) => `${k}: ${typeof v === "string" ? v : valueText(v)} `);
    }
  }
}

function renderHistory() {
  const list = $("#history");
  if (!events.length) {
    fill(list, el("li", { class: "muted", text: "No recorded events." }));
    return;
  }
  fill(
    list,
    events.map((event) =>
      el(
        "li",
        { class: ACTION_CLASS[event.action] || "" },
        el("span", { class: "date", text: event.date }),
        el("span", { class: "action", text: event.action }),
        el("span", { class: "details" }, eventDetails(event)),
        " · ",
        changesetLink(event.changeset),
        event.op_kind ? el("span", { class: "muted", text: ` (op ${event.op}: ${event.op_kind})` }) : null,
      ),
    ),
  );
}

// ------------------------------------------------------------------ lineage

function lineageEdges() {
  const seen = new Set();
  const edges = [];
  for (const edge of [...(lineage.predecessors || []), ...(lineage.successors || [])]) {
    const key = `${edge.from}>${edge.to}>${edge.changeset}`;
    if (!seen.has(key)) {
      seen.add(key);
      edges.push(edge);
    }
  }
  return edges;
}

function renderLineage() {
  const box = $("#lineage");
  const edges = lineageEdges();
  if (!edges.length) {
    fill(box, el("p", { class: "muted", text: "No predecessors or successors: the unit was created and (if ended) dissolved without passing content on." }));
    return;
  }
  const lang = currentLang();
  const ids = [...new Set([id, ...edges.flatMap((e) => [e.from, e.to])])];
  const incoming = new Map(ids.map((n) => [n, []]));
  for (const edge of edges) incoming.get(edge.to).push(edge.from);
  // Columns: the longest path from a unit with no predecessor.
  const rank = new Map();
  const rankOf = (node, stack = new Set()) => {
    if (rank.has(node)) return rank.get(node);
    if (stack.has(node)) return 0;
    stack.add(node);
    const r = Math.max(-1, ...incoming.get(node).map((p) => rankOf(p, stack))) + 1;
    rank.set(node, r);
    return r;
  };
  ids.forEach((n) => rankOf(n));
  const columns = [];
  for (const n of ids) (columns[rank.get(n)] ||= []).push(n);
  const W = 230;
  const H = 48;
  const GX = 120;
  const GY = 22;
  const rows = Math.max(...columns.map((c) => c.length));
  const pos = new Map();
  columns.forEach((column, c) => {
    if (c > 0) {
      const centre = (n) => {
        const ys = incoming.get(n).filter((p) => pos.has(p)).map((p) => pos.get(p).y);
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
      };
      column.sort((a, b) => centre(a) - centre(b));
    }
    const offset = ((rows - column.length) * (H + GY)) / 2;
    column.forEach((n, r) => pos.set(n, { x: 10 + c * (W + GX), y: 10 + offset + r * (H + GY) }));
  });
  const width = 20 + columns.length * W + (columns.length - 1) * GX;
  const height = 20 + rows * H + (rows - 1) * GY;
  const svg = d3
    .create("svg")
    .attr("xmlns", SVG)
    .attr("width", width)
    .attr("height", height)
    .attr("viewBox", `0 0 ${width} ${height}`)
    .attr("role", "img")
    .attr("aria-label", `Lineage of ${id}`);
  svg
    .append("defs")
    .append("marker")
    .attr("id", "lineage-arrow")
    .attr("viewBox", "0 0 10 10")
    .attr("refX", 10)
    .attr("refY", 5)
    .attr("markerWidth", 8)
    .attr("markerHeight", 8)
    .attr("orient", "auto")
    .append("path")
    .attr("d", "M0,0 L10,5 L0,10 z");
  const edgeGroup = svg.append("g").attr("class", "edges");
  for (const edge of edges) {
    const a = pos.get(edge.from);
    const b = pos.get(edge.to);
    const x1 = a.x + W;
    const y1 = a.y + H / 2;
    const x2 = b.x;
    const y2 = b.y + H / 2;
    const mx = (x1 + x2) / 2;
    const g = edgeGroup.append("g").attr("class", "ledge-group");
    g.append("title").text(`${edge.from} → ${edge.to}: ${percent(edge.share)} by ${edge.kind} on ${edge.date} (${edge.changeset})`);
    g.append("path")
      .attr("class", "ledge")
      .attr("d", `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`)
      .attr("marker-end", "url(#lineage-arrow)");
    g.append("text")
      .attr("class", "share")
      .attr("x", mx)
      .attr("y", (y1 + y2) / 2 - 4)
      .attr("text-anchor", "middle")
      .text(percent(edge.share));
  }
  const nodes = svg
    .append("g")
    .selectAll("a")
    .data(ids)
    .join("a")
    .attr("href", (n) => unitHref(n, { lang }))
    .attr("class", (n) => (n === id ? "lnode self" : "lnode"))
    .attr("data-id", (n) => n)
    .attr("transform", (n) => `translate(${pos.get(n).x},${pos.get(n).y})`);
  nodes.append("title").text((n) => `${book.label(n, lang)} (${n})`);
  nodes.append("rect").attr("width", W).attr("height", H).attr("rx", 6);
  nodes
    .append("text")
    .attr("x", 10)
    .attr("y", 20)
    .text((n) => book.label(n, lang));
  nodes
    .append("text")
    .attr("class", "sub")
    .attr("x", 10)
    .attr("y", 37)
    .text((n) => n);
  fill(box, svg.node());
  // Shorten the labels that do not fit in their box (measured once drawn).
  svg.selectAll(".lnode text").each(function () {
    const full = this.textContent;
    let keep = full.length;
    while (keep > 1 && this.getComputedTextLength() > W - 18) {
      keep -= 1;
      this.textContent = `${full.slice(0, keep)}…`;
    }
  });
}

// ------------------------------------------------------------------ metrics

function periodKind(period) {
  if (/^\d{4}Q[1-4]$/.test(period)) return "quarter";
  if (/^\d{4}H[12]$/.test(period)) return "half";
  if (/^\d{4}$/.test(period)) return "year";
  if (/^\d{4}-\d{2}$/.test(period)) return "month";
  return "day";
}

function metricChart(name, points) {
  const width = 640;
  const height = 220;
  const margin = { top: 12, right: 16, bottom: 28, left: 64 };
  const day = (iso) => new Date(`${iso}T00:00:00Z`);
  const x = d3
    .scaleUtc()
    .domain(d3.extent(points, (p) => day(p.end)))
    .range([margin.left, width - margin.right]);
  if (points.length === 1) {
    const only = day(points[0].end);
    x.domain([new Date(only.getTime() - 180 * 864e5), new Date(only.getTime() + 180 * 864e5)]);
  }
  const values = points.map((p) => p.value);
  const y = d3
    .scaleLinear()
    .domain([Math.min(0, d3.min(values)), d3.max(values) || 1])
    .nice()
    .range([height - margin.bottom, margin.top]);
  const svg = d3
    .create("svg")
    .attr("xmlns", SVG)
    .attr("viewBox", `0 0 ${width} ${height}`)
    .attr("width", width)
    .attr("role", "img")
    .attr("aria-label", `${name} over time`);
  svg
    .append("g")
    .attr("class", "axis")
    .attr("transform", `translate(0,${height - margin.bottom})`)
    .call(d3.axisBottom(x).ticks(6));
  svg
    .append("g")
    .attr("class", "axis")
    .attr("transform", `translate(${margin.left},0)`)
    .call(d3.axisLeft(y).ticks(5).tickFormat(d3.format("~s")));
  const kinds = d3.group(points, (p) => periodKind(p.period));
  let dash = 0;
  for (const [, series] of kinds) {
    svg
      .append("path")
      .attr("class", "line")
      .attr("stroke-dasharray", dash++ ? "5 3" : null)
      .attr(
        "d",
        d3
          .line()
          .x((p) => x(day(p.end)))
          .y((p) => y(p.value))(series),
      );
  }
  svg
    .append("g")
    .selectAll("circle")
    .data(points)
    .join("circle")
    .attr("class", (p) => p.basis || "")
    .attr("cx", (p) => x(day(p.end)))
    .attr("cy", (p) => y(p.value))
    .attr("r", 4)
    .append("title")
    .text((p) => `${p.period}: ${p.value.toLocaleString()}${p.currency ? ` ${p.currency}` : ""} (${p.basis})`);
  return svg.node();
}

function renderMetrics() {
  const box = $("#metrics");
  const names = Object.keys(metrics).sort();
  if (!names.length) {
    fill(box, el("p", { class: "muted", text: "No metrics are loaded for this unit." }));
    return;
  }
  fill(
    box,
    names.map((name) => {
      const points = [...metrics[name]].sort((a, b) => (a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
      const currency = [...new Set(points.map((p) => p.currency).filter(Boolean))].join(", ");
      return el(
        "section",
        { class: "metric", dataset: { metric: name } },
        el("h3", { text: currency ? `${name} (${currency})` : name }),
        metricChart(name, points),
        el(
          "p",
          { class: "muted" },
          "Filled points are reported; hollow ones approximate or derived. Dashed lines join periods of another length.",
        ),
        el(
          "details",
          {},
          el("summary", { text: `Values (${points.length})` }),
          el(
            "div",
            { class: "table-wrap" },
            el(
              "table",
              {},
              el(
                "thead",
                {},
                el("tr", {}, ["Period", "Start", "End", "Value", "Currency", "Basis", "Sources"].map((t) => el("th", { text: t, class: t === "Value" ? "num" : "" }))),
              ),
              el(
                "tbody",
                {},
                points.map((p) =>
                  el(
                    "tr",
                    {},
                    el("td", { text: p.period }),
                    el("td", { text: p.start }),
                    el("td", { text: p.end }),
                    el("td", { class: "num", text: p.value.toLocaleString() }),
                    el("td", { text: p.currency || "" }),
                    el("td", { text: p.basis || "" }),
                    el("td", {}, el("div", { class: "sources" }, (p.sources || []).map(sourceNode))),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    }),
  );
}

// ------------------------------------------------------------------ start

function renderAll() {
  renderFacts();
  renderHistory();
  if (lineage) renderLineage();
  renderMetrics();
}

async function start() {
  initLanguage(() => {
    if (found) renderAll();
  });
  const wanted = params().get("at");
  const at = wanted && isIsoDay(wanted) ? wanted : null;
  const path = `/api/v1/units/${encodeURIComponent(id)}`;
  try {
    found = await api(at ? `${path}?at=${at}` : path);
  } catch {
    fill($("#history"), el("li", { class: "muted", text: "—" }));
    return;
  }
  if (!found.active) {
    // Show the unit as it last stood (or first stood, for a date before it existed).
    const day = at && at < found.from ? found.from : found.to ? addDays(found.to, -1) : found.from;
    found = await api(`${path}?at=${day}`);
    if (at) showStatus(`${id} is not in the structure on ${at}; shown as on ${day}.`, "info");
  }
  book.add({ ...(found.unit || found.latest), id });
  addLanguages([(found.unit || found.latest).names]);
  renderFacts();
  const [history, lin, met] = await Promise.all([
    api(`${path}/history`).catch(() => ({ events: [] })),
    api(`${path}/lineage`).catch(() => null),
    api(`${path}/metrics`).catch(() => ({ metrics: {} })),
  ]);
  events = history.events || [];
  lineage = lin;
  metrics = met.metrics || {};
  const mentioned = new Set(found.path);
  for (const event of events) {
    for (const key of ["parent", "from", "to", "child"]) {
      if (typeof event[key] === "string") mentioned.add(event[key]);
    }
    for (const s of event.successors || []) mentioned.add(s.to);
  }
  for (const edge of lineage ? lineageEdges() : []) mentioned.add(edge.from).add(edge.to);
  for (const link of (found.unit || found.latest).links || []) mentioned.add(link.to);
  await book.ensure([...mentioned]);
  renderAll();
}

start();
