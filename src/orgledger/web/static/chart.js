// The chart page: the forest as of a date, a timeline over the change sets, search,
// language, and the state kept in the URL (?at=YYYY-MM-DD&lang=zh&unit=ID).

import {
  $,
  addDays,
  api,
  clearStatus,
  currentLang,
  debounce,
  el,
  fill,
  initLanguage,
  isIsoDay,
  label,
  params,
  setParams,
  showStatus,
  today,
  unitHref,
} from "./common.js";
import { ForestChart } from "./orgchart.js";

const dateInput = $("#date");
const timeline = $("#timeline");
const timelineLabel = $("#timeline-label");
const chartBox = $("#chart");
const results = $("#results");
const query = $("#q");
let log = [];
let matches = [];
let searchSeq = 0;

const chart = new ForestChart(chartBox, {
  depth: 2,
  open: 1,
  overview: $("#overview"),
  onSelect: (unit) => {
    setParams({ unit: unit.id });
    window.location.assign(unitHref(unit.id, { at: chart.at, lang: currentLang() }));
  },
});

initLanguage((lang) => chart.setLang(lang));
chart.lang = currentLang();

// ------------------------------------------------------------------ date and timeline

function stepFor(day) {
  let index = -1;
  for (let i = 0; i < log.length; i++) if (log[i].effective <= day) index = i;
  return index;
}

function showStep(day) {
  const index = stepFor(day);
  timeline.value = String(Math.max(index, 0));
  if (index < 0) {
    timelineLabel.textContent = log.length ? `before ${log[0].id}` : "no change sets yet";
    return;
  }
  const entry = log[index];
  fill(
    timelineLabel,
    el("a", { href: `/changesets/${encodeURIComponent(entry.id)}`, class: "mono", text: entry.id }),
    ` ${entry.title || ""}`,
  );
  timelineLabel.title = `${entry.effective}: ${entry.title || entry.id}`;
}

async function go(day, { focus = null, keepFocus = true } = {}) {
  if (!isIsoDay(day)) {
    showStatus(`'${day}' is not a date (YYYY-MM-DD)`, "error");
    return;
  }
  dateInput.value = day;
  showStep(day);
  const previous = chart.highlighted;
  let loaded;
  try {
    loaded = await chart.load(day);
  } catch {
    return;
  }
  if (!loaded) return;
  clearStatus();
  setParams({ at: day });
  const target = focus || (keepFocus ? previous : null);
  if (target) {
    const found = await chart.focus(target);
    setParams({ unit: found ? target : null });
    if (!found && focus) showStatus(`${target} is not in the structure on ${day}.`, "info");
  } else {
    setParams({ unit: null });
    chart.fit();
  }
}

dateInput.addEventListener("change", () => {
  if (dateInput.value) go(dateInput.value);
});

const fromSlider = debounce(() => {
  const entry = log[Number(timeline.value)];
  if (entry) go(entry.effective);
}, 120);

timeline.addEventListener("input", () => {
  const entry = log[Number(timeline.value)];
  if (entry) {
    dateInput.value = entry.effective;
    showStep(entry.effective);
  }
  fromSlider();
});

// ------------------------------------------------------------------ search

function activeOn(match, day) {
  return match.from <= day && (match.to === null || day < match.to);
}

function describe(match) {
  const span = `${match.from} – ${match.to ? match.to : "today"}`;
  return `${label(match)} · ${match.id} · ${match.kind} · ${span}`;
}

function showResults(list) {
  matches = list;
  fill(
    results,
    ...list.map((match, index) =>
      el(
        "li",
        {},
        el("button", {
          type: "button",
          text: describe(match),
          class: activeOn(match, dateInput.value) ? "" : "inactive",
          dataset: { index: String(index) },
          on: { click: () => choose(match) },
        }),
      ),
    ),
  );
  if (!list.length && query.value.trim()) {
    results.append(el("li", { class: "none", text: `Nothing matches “${query.value.trim()}”.` }));
  }
  results.hidden = !results.children.length;
}

async function search(text) {
  const seq = ++searchSeq;
  if (!text) {
    showResults([]);
    return [];
  }
  const body = await api(`/api/v1/find?q=${encodeURIComponent(text)}`);
  if (seq !== searchSeq) return null;
  showResults(body.matches);
  return body.matches;
}

async function choose(match) {
  const started = performance.now();
  typed.cancel();
  searchSeq++;
  results.hidden = true;
  let day = dateInput.value;
  if (!activeOn(match, day)) {
    const moved = day < match.from ? match.from : addDays(match.to, -1);
    showStatus(`${label(match)} is not in the structure on ${day}; showing ${moved}.`, "info");
    day = moved;
    await go(day, { focus: match.id });
  } else {
    const found = await chart.focus(match.id);
    setParams({ unit: found ? match.id : null });
    if (!found) showStatus(`${match.id} is not in the structure on ${day}.`, "info");
  }
  chartBox.dataset.focusMs = String(Math.round(performance.now() - started));
}

const typed = debounce(() => search(query.value.trim()).catch(() => {}), 200);
query.addEventListener("input", typed);
query.addEventListener("keydown", (event) => {
  if (event.key === "Escape") results.hidden = true;
  if (event.key === "ArrowDown" && !results.hidden) {
    event.preventDefault();
    results.querySelector("button")?.focus();
  }
});
results.addEventListener("keydown", (event) => {
  const buttons = [...results.querySelectorAll("button")];
  const at = buttons.indexOf(document.activeElement);
  if (event.key === "ArrowDown" && at < buttons.length - 1) buttons[at + 1].focus();
  if (event.key === "ArrowUp") (at > 0 ? buttons[at - 1] : query).focus();
  if (event.key === "Escape") {
    results.hidden = true;
    query.focus();
  }
});

$("#search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = query.value.trim();
  if (!text) return;
  typed.cancel();
  let list;
  try {
    list = await search(text);
  } catch {
    return;
  }
  if (!list) return;
  if (list.length === 1) await choose(list[0]);
  else if (!list.length) showStatus(`Nothing matches “${text}”.`, "info");
});

document.addEventListener("click", (event) => {
  if (!$("#search").contains(event.target)) results.hidden = true;
});

// ------------------------------------------------------------------ buttons

$("#fit").addEventListener("click", () => chart.fit());
$("#expand").addEventListener("click", () => chart.expandAll().catch(() => {}));
$("#collapse").addEventListener("click", () => chart.collapse());
$("#compact").addEventListener("click", (event) => {
  event.currentTarget.setAttribute("aria-pressed", String(chart.toggleCompact()));
});

async function exporting(button, work) {
  button.disabled = true;
  showStatus("Preparing the whole chart…", "info");
  try {
    await work();
    clearStatus();
  } catch (exc) {
    showStatus(exc.message || String(exc), "error");
  } finally {
    button.disabled = false;
  }
}

$("#export-svg").addEventListener("click", (event) =>
  exporting(event.currentTarget, () => chart.exportSvg()),
);
$("#export-png").addEventListener("click", (event) =>
  exporting(event.currentTarget, async () => {
    const scale = await chart.exportPng();
    if (scale < 0.5) {
      setTimeout(
        () => showStatus(`The chart is large: the PNG shows it at ${Math.round(scale * 100)}%; the SVG keeps every detail.`, "info"),
        0,
      );
    }
  }),
);

// ------------------------------------------------------------------ start

async function start() {
  const wanted = params();
  try {
    log = await api("/api/v1/log");
  } catch {
    log = [];
  }
  log = [...log].sort((a, b) => (a.effective < b.effective ? -1 : a.effective > b.effective ? 1 : a.seq - b.seq));
  timeline.max = String(Math.max(log.length - 1, 0));
  timeline.disabled = log.length === 0;
  const at = wanted.get("at");
  const day = at && isIsoDay(at) ? at : today();
  await go(day, { focus: wanted.get("unit") || null, keepFocus: false });
  if (at && !isIsoDay(at)) showStatus(`'${at}' is not a date (YYYY-MM-DD); showing ${day}.`, "error");
}

start();
