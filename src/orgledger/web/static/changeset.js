// The change set page: its facts, its changes in the legend's colours, its magnitude
// explained, its operations, and the structure on its effective date with the changed
// units marked.

import {
  $,
  NameBook,
  api,
  changesetLink,
  chartHref,
  currentLang,
  el,
  fill,
  initLanguage,
  magnitudeBar,
  magnitudeText,
  sourceNode,
  unitHref,
  unitLink,
} from "./common.js";
import { diffIds, diffMarks, renderChanges, valueText } from "./changes.js";
import { ForestChart } from "./orgchart.js";

const id = document.body.dataset.changeset;
const book = new NameBook();
let record = null;

const chart = new ForestChart($("#chart"), {
  depth: 2,
  open: 1,
  onSelect: (unit) => window.location.assign(unitHref(unit.id, { at: record?.effective, lang: currentLang() })),
});

function fact(name, ...value) {
  return [el("dt", { text: name }), el("dd", {}, ...value)];
}

function renderFacts() {
  const magnitude = el(
    "a",
    {
      href: "#magnitude",
      class: "magnitude-link",
      title: "How the magnitude is counted",
      on: { click: toggleMagnitude },
    },
    magnitudeText(record.magnitude),
  );
  const sources = record.source || [];
  fill(
    $("#facts"),
    fact("Title", record.title || record.id),
    fact(
      "Effective",
      el("a", { href: chartHref({ at: record.effective, lang: currentLang() }), text: record.effective }),
    ),
    fact("Recorded", record.recorded_at || ""),
    fact("Magnitude", magnitude, magnitudeBar(record.magnitude), " ", el("span", { class: "muted", text: "(share of the structure it touched; click for the count)" })),
    fact(
      "Largest since",
      record.largest_since ? changesetLink(record.largest_since) : el("span", { text: "the largest so far" }),
    ),
    record.supersedes ? fact("Corrects", changesetLink(record.supersedes)) : [],
    fact("Operations", String((record.ops || []).length)),
    sources.length ? fact("Sources", sourceList(sources)) : [],
    record.notes ? fact("Notes", record.notes) : [],
  );
}

/** Sources as links; beyond the first few, folded away. */
function sourceList(sources, shown = 3) {
  const list = el("div", { class: "sources" }, sources.slice(0, shown).map(sourceNode));
  if (sources.length <= shown) return list;
  return [
    list,
    el(
      "details",
      { class: "more-sources" },
      el("summary", { text: `${sources.length - shown} more` }),
      el("div", { class: "sources" }, sources.slice(shown).map(sourceNode)),
    ),
  ];
}

let explained = false;

async function toggleMagnitude(event) {
  event.preventDefault();
  const box = $("#magnitude");
  if (explained) {
    box.hidden = !box.hidden;
    return;
  }
  const body = await api(`/api/v1/changesets/${encodeURIComponent(id)}/magnitude`);
  explained = true;
  await book.ensure(body.counted.map((c) => c.unit));
  const why = { created: "added", ended: "removed", moved: "moved", renamed: "renamed", changed: "changed" };
  const path = (ids) => (ids.length ? ids.join(" › ") : "—");
  fill(
    box,
    el("h2", { text: "How the magnitude is counted" }),
    el("p", {
      text:
        `Counted weight ${body.counted_weight} of ${body.universe} ` +
        `(units before: ${body.units_before}, after: ${body.units_after}) = ${magnitudeText(body.magnitude)}.`,
    }),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { class: "counted" },
        el(
          "thead",
          {},
          el("tr", {}, ["Unit", "Why", "Weight", "Before", "After", "Detail"].map((t) => el("th", { text: t }))),
        ),
        el(
          "tbody",
          {},
          body.counted.map((c) =>
            el(
              "tr",
              { class: why[c.why] || "" },
              el("td", {}, unitLink(c.unit, book, { lang: currentLang() })),
              el("td", { text: c.why }),
              el("td", { class: "num", text: String(c.weight) }),
              el("td", { class: "mono", text: path(c.before) }),
              el("td", { class: "mono", text: path(c.after) }),
              el("td", { text: c.detail || "" }),
            ),
          ),
        ),
      ),
    ),
  );
  box.hidden = false;
}

const OP_KINDS = ["create", "rename", "set", "move", "merge", "split", "dissolve", "link", "unlink"];

function opItem(op) {
  const kind = OP_KINDS.find((k) => k in op) || Object.keys(op)[0];
  const target = op[kind];
  const targets = Array.isArray(target) ? target : [target];
  const details = Object.entries(op)
    .filter(([k]) => ![kind, "notes", "source", "basis"].includes(k))
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : valueText(v)}`);
  const sources = op.source ? (Array.isArray(op.source) ? op.source : [op.source]) : [];
  return el(
    "li",
    {},
    el("strong", { text: kind }),
    " ",
    targets.map((t, i) => [i ? ", " : "", typeof t === "string" ? unitLink(t, null) : valueText(t)]),
    details.length ? el("span", { class: "muted", text: ` — ${details.join("; ")}` }) : null,
    op.basis ? el("span", { class: "muted", text: ` [${op.basis}]` }) : null,
    op.notes ? el("div", { class: "notes", text: op.notes }) : null,
    sources.length ? sourceList(sources) : null,
  );
}

function renderOps() {
  const ops = record.ops || [];
  fill(
    $("#ops"),
    el(
      "details",
      {},
      el("summary", { text: `Operations (${ops.length})` }),
      el("ol", { class: "ops" }, ops.map(opItem)),
    ),
  );
}

function renderAll() {
  renderFacts();
  renderChanges($("#changes"), record.diff, book, { at: record.effective, lang: currentLang() });
}

async function start() {
  initLanguage((lang) => {
    chart.setLang(lang);
    if (record) renderAll();
  });
  chart.lang = currentLang();
  try {
    record = await api(`/api/v1/changesets/${encodeURIComponent(id)}`);
  } catch {
    return;
  }
  document.title = `${record.title || record.id} · orgledger`;
  renderFacts();
  renderOps();
  const { marks, notes } = diffMarks(record.diff);
  chart.setMarks(marks, notes);
  try {
    await chart.load(record.effective);
  } catch {
    return;
  }
  for (const unit of chart.units.values()) book.add(unit);
  await book.ensure(diffIds(record.diff));
  renderAll();
  await chart.show([...marks.keys()]);
  chart.fit();
}

start();
