// The plan page: write or draft a plan, check it against the ledger (its problems by
// line, or its changes on the chart), download or copy it, and apply it with the token.

import {
  $,
  NameBook,
  api,
  ApiError,
  changesetHref,
  clearStatus,
  currentLang,
  debounce,
  download,
  el,
  fill,
  initLanguage,
  isIsoDay,
  label,
  showStatus,
  today,
} from "./common.js";
import { diffIds, diffMarks, renderChanges } from "./changes.js";
import { ForestChart } from "./orgchart.js";

const SLUG = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
const text = $("#plan-text");
const dateInput = $("#plan-date");
const problems = $("#problems");
const changes = $("#changes");
const writable = document.body.dataset.writable === "true";
const book = new NameBook();
const drafted = new Map(); // units created by drafted ops: id -> {kind, names}
let selected = null;
let checking = 0;

const chart = new ForestChart($("#chart"), {
  depth: 2,
  open: 1,
  draggable: true,
  onSelect: (unit) => select(unit),
  onDrop: (unit, target) => dropped(unit, target),
});

// ------------------------------------------------------------------ the plan text

function isJson(value) {
  const trimmed = value.trim();
  if (!trimmed.startsWith("{")) return false;
  try {
    return typeof JSON.parse(trimmed) === "object";
  } catch {
    return false;
  }
}

function effectiveOf(value) {
  if (isJson(value)) {
    const day = JSON.parse(value).effective;
    return typeof day === "string" && isIsoDay(day) ? day : null;
  }
  const match = /^effective:[ \t]*["']?(\d{4}-\d{2}-\d{2})["']?[ \t]*(#.*)?$/m.exec(value);
  return match && isIsoDay(match[1]) ? match[1] : null;
}

function q(value) {
  return JSON.stringify(String(value)); // a JSON string is a valid YAML double-quoted scalar
}

function header(day) {
  return [`id: ${q(`draft-${day}`)}`, `title: ${q("Draft reorganization")}`, `effective: ${day}`, "ops:"].join("\n");
}

/** Add one operation to the plan: to the JSON object, or as YAML lines after `ops:`. */
function addOp(op, yamlLines) {
  let value = text.value;
  if (isJson(value)) {
    const plan = JSON.parse(value);
    plan.ops = Array.isArray(plan.ops) ? plan.ops : [];
    plan.ops.push(op);
    text.value = `${JSON.stringify(plan, null, 2)}\n`;
    return;
  }
  if (!value.trim()) value = header(dateInput.value || today());
  else if (/^ops:[ \t]*\[[ \t]*\][ \t]*$/m.test(value)) value = value.replace(/^ops:[ \t]*\[[ \t]*\][ \t]*$/m, "ops:");
  else if (!/^ops:/m.test(value)) value = `${value.replace(/\s*$/, "")}\nops:`;
  value = value.replace(/\s*$/, "");
  text.value = `${value}\n${yamlLines.map((line, i) => (i ? `    ${line}` : `  - ${line}`)).join("\n")}\n`;
}

function namesYaml(names) {
  return ["names:", ...Object.entries(names).map(([lang, name]) => `  ${lang}: ${q(name)}`)];
}

// ------------------------------------------------------------------ checking

function problemText(p) {
  const where = p.line ? `line ${p.line}: ` : "";
  const op = p.op ? `op ${p.op}${p.op_kind ? ` (${p.op_kind})` : ""}: ` : "";
  return `${where}${op}${p.message} [${p.code}]`;
}

function selectLine(line) {
  const lines = text.value.split("\n");
  const index = Math.max(1, Math.min(line, lines.length)) - 1;
  let start = 0;
  for (let i = 0; i < index; i++) start += lines[i].length + 1;
  text.focus();
  text.setSelectionRange(start, start + lines[index].length);
  const height = parseFloat(getComputedStyle(text).lineHeight) || 19;
  text.scrollTop = Math.max(0, (index - 3) * height);
}

function showProblems(list) {
  fill(
    problems,
    list.map((p) =>
      el(
        "li",
        {},
        el("button", {
          type: "button",
          text: problemText(p),
          title: p.line ? `Select line ${p.line} in the plan` : "",
          dataset: { line: String(p.line || "") },
          on: { click: () => p.line && selectLine(p.line) },
        }),
      ),
    ),
  );
}

function contentType() {
  return isJson(text.value) ? "application/json" : "text/yaml";
}

function emptyPlan() {
  if (text.value.trim()) return false;
  showStatus("Write a plan, open a file, or draft one on the chart first.", "info");
  return true;
}

/** Preview the plan; `fit` zooms the chart out to the whole structure afterwards. */
async function check({ fit = false } = {}) {
  if (emptyPlan()) return;
  const run = ++checking;
  showProblems([]);
  let body;
  try {
    body = await api("/api/v1/plans/preview", {
      method: "POST",
      body: text.value,
      headers: { "Content-Type": contentType() },
      quiet: true,
    });
  } catch (error) {
    if (run !== checking) return;
    failed(error);
    return;
  }
  if (run !== checking) return;
  clearStatus();
  await showPreviews(body.previews || []);
  if (fit) chart.fit();
}

function failed(error) {
  if (error instanceof ApiError && error.status === 422 && Array.isArray(error.details)) {
    const count = error.details.length;
    showStatus(`The plan has ${count} problem${count === 1 ? "" : "s"}; click one to see its line.`, "error");
    showProblems(error.details);
  } else {
    showStatus(`${error.message}${error.code ? ` [${error.code}]` : ""}`, "error");
  }
  chart.overlay = null;
  chart.setMarks(new Map());
  chart.render();
  fill(changes);
}

/** Units a JSON plan creates, with their kind and names (a YAML plan is not parsed here). */
function createdIn(value) {
  const found = new Map();
  if (!isJson(value)) return found;
  const add = (spec) => {
    if (spec && typeof spec === "object" && typeof spec.create === "string") {
      found.set(spec.create, { kind: spec.kind, names: spec.names, abbr: spec.abbr, attrs: spec.attrs });
    }
  };
  for (const op of JSON.parse(value).ops || []) {
    add(op);
    if (op && op.into) (Array.isArray(op.into) ? op.into : [op.into]).forEach(add);
  }
  return found;
}

async function showPreviews(previews) {
  if (!previews.length) {
    fill(changes, el("p", { class: "empty", text: "The plan is valid and changes nothing." }));
    return;
  }
  const last = previews[previews.length - 1];
  const diff = last.diff;
  const day = diff.to;
  if (day && day !== chart.at) {
    dateInput.value = day;
    await chart.load(day);
  }
  const added = new Set((diff.added || []).map((a) => a.id)); // not in the ledger yet
  await book.ensure(diffIds(diff).filter((id) => !added.has(id)));
  chart.overlay = diff;
  chart.overlayUnits = new Map([...drafted, ...createdIn(text.value)]);
  for (const [id, unit] of chart.overlayUnits) book.add({ id, ...unit });
  const { marks, notes } = diffMarks(diff);
  chart.setMarks(marks, notes);
  fill(changes);
  for (const preview of previews) {
    const box = el("div");
    renderChanges(box, preview.diff, book, {
      at: preview.diff.to,
      lang: currentLang(),
      heading: `Changes of ${preview.id} (magnitude ${Number(preview.magnitude).toFixed(2)})`,
    });
    changes.append(...box.childNodes);
  }
  const parents = [
    ...(diff.added || []).map((a) => a.parent),
    ...(diff.moved || []).flatMap((m) => [m.id, m.to]),
  ].filter(Boolean);
  await chart.show([...marks.keys(), ...parents]);
  showStatus(`The plan is valid: ${previews.map((p) => p.id).join(", ")}. Nothing is recorded until you apply it.`, "ok");
}

// ------------------------------------------------------------------ applying

async function apply() {
  if (emptyPlan()) return;
  const token = $("#token").value.trim();
  if (!token) {
    showStatus("Give the server's token to apply the plan.", "error");
    $("#token").focus();
    return;
  }
  showProblems([]);
  let body;
  try {
    body = await api("/api/v1/changesets", {
      method: "POST",
      body: text.value,
      headers: { "Content-Type": contentType(), Authorization: `Bearer ${token}` },
      quiet: true,
    });
  } catch (error) {
    failed(error);
    return;
  }
  const recorded = body.recorded || [];
  if (!recorded.length) {
    showStatus("Nothing new: this plan is recorded already.", "info");
    return;
  }
  const status = $("#status");
  fill(
    status,
    "Recorded ",
    recorded.map((r, i) => [
      i ? ", " : "",
      el("a", { href: changesetHref(r.id), text: r.id }),
      ` (effective ${r.effective}, ${r.ops} operation${r.ops === 1 ? "" : "s"})`,
    ]),
    ".",
  );
  status.dataset.kind = "ok";
  status.hidden = false;
  chart.overlay = null;
  chart.setMarks(new Map());
  await chart.load(dateInput.value || chart.at);
}

// ------------------------------------------------------------------ drafting by hand

function select(unit) {
  selected = unit;
  chart.select(unit.id);
  fill($("#selection"), "Selected: ", el("strong", { text: label(unit, currentLang()) }), " ", el("span", { class: "id", text: unit.id }));
  for (const id of ["#op-create", "#op-rename", "#op-merge", "#op-dissolve"]) $(id).disabled = false;
}

function dropped(unit, target) {
  if (unit.id === target.id) return;
  if (unit.parent === target.id) {
    showStatus(`${unit.id} is already under ${target.id}.`, "info");
    return;
  }
  addOp({ move: unit.id, to: target.id }, [`move: ${q(unit.id)}`, `to: ${q(target.id)}`]);
  check();
}

const dialog = $("#op-dialog");
const form = $("#op-form");

/** Ask for some fields in the small dialog; resolves to their values, or null. */
function ask(title, fields, defaults = {}, validate = () => null) {
  $("#op-title").textContent = title;
  for (const name of ["id", "name", "lang", "kind", "target"]) {
    $(`#op-field-${name}`).hidden = !fields.includes(name);
    form.elements[name].value = defaults[name] ?? (name === "lang" ? currentLang() : name === "kind" ? "team" : "");
  }
  fill($("#unit-ids"), ...[...chart.units.keys()].slice(0, 2000).map((id) => el("option", { value: id })));
  $("#op-error").hidden = true;
  return new Promise((resolve) => {
    const submitted = (event) => {
      const ok = event.submitter && event.submitter.value === "ok";
      if (!ok) return;
      const values = Object.fromEntries(fields.map((f) => [f, form.elements[f].value.trim()]));
      const problem = validate(values);
      if (problem) {
        event.preventDefault();
        $("#op-error").textContent = problem;
        $("#op-error").hidden = false;
      }
    };
    form.addEventListener("submit", submitted);
    dialog.addEventListener(
      "close",
      () => {
        form.removeEventListener("submit", submitted);
        if (dialog.returnValue !== "ok") {
          resolve(null);
          return;
        }
        resolve(Object.fromEntries(fields.map((f) => [f, form.elements[f].value.trim()])));
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    form.elements[fields[0]].focus();
  });
}

const checkName = (v) => (!v.name ? "Give a name." : !LANG.test(v.lang) ? "The language is a tag such as en or zh." : null);

$("#op-create").addEventListener("click", async () => {
  if (!selected) return;
  const values = await ask(`Create a unit under ${selected.id}`, ["id", "name", "lang", "kind"], {}, (v) =>
    !SLUG.test(v.id)
      ? "The id is lowercase letters, digits, '_', '.', '-' (at most 64)."
      : !v.kind
        ? "Give a kind."
        : checkName(v),
  );
  if (!values) return;
  const names = { [values.lang]: values.name };
  drafted.set(values.id, { kind: values.kind, names });
  addOp(
    { create: values.id, parent: selected.id, kind: values.kind, names },
    [`create: ${q(values.id)}`, `parent: ${q(selected.id)}`, `kind: ${q(values.kind)}`, ...namesYaml(names)],
  );
  check();
});

$("#op-rename").addEventListener("click", async () => {
  if (!selected) return;
  const values = await ask(`Rename ${selected.id}`, ["name", "lang"], {}, checkName);
  if (!values) return;
  const names = { [values.lang]: values.name };
  addOp({ rename: selected.id, names }, [`rename: ${q(selected.id)}`, ...namesYaml(names)]);
  check();
});

$("#op-merge").addEventListener("click", async () => {
  if (!selected) return;
  const values = await ask(`Merge ${selected.id} into another unit`, ["target"], {}, (v) =>
    !SLUG.test(v.target) ? "Give the id of the unit it merges into." : v.target === selected.id ? "Pick another unit." : null,
  );
  if (!values) return;
  addOp({ merge: [selected.id], into: values.target }, [`merge: [${q(selected.id)}]`, `into: ${q(values.target)}`]);
  check();
});

$("#op-dissolve").addEventListener("click", () => {
  if (!selected) return;
  addOp({ dissolve: selected.id }, [`dissolve: ${q(selected.id)}`]);
  check();
});

// ------------------------------------------------------------------ files and buttons

$("#plan-file").addEventListener("change", (event) => {
  const file = event.target.files && event.target.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    text.value = String(reader.result || "");
    syncDate();
    check({ fit: true });
  };
  reader.onerror = () => showStatus(`Could not read ${file.name}.`, "error");
  reader.readAsText(file);
  event.target.value = "";
});

$("#preview").addEventListener("click", () => check({ fit: true }));
$("#plan-fit").addEventListener("click", () => chart.fit());
$("#apply-form").addEventListener("submit", (event) => {
  event.preventDefault();
  apply();
});

$("#download").addEventListener("click", () => {
  download(new Blob([text.value], { type: "text/yaml;charset=utf-8" }), "plan.yaml");
});

$("#copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(text.value);
  } catch {
    text.select();
    document.execCommand("copy");
  }
  showStatus("The plan is copied.", "ok");
});

async function syncDate() {
  const day = effectiveOf(text.value);
  if (day && day !== dateInput.value) {
    dateInput.value = day;
    await chart.load(day).catch(() => {});
  }
}

text.addEventListener("input", debounce(syncDate, 400));

dateInput.addEventListener("change", async () => {
  const day = dateInput.value;
  if (!isIsoDay(day)) return;
  if (effectiveOf(text.value) && !isJson(text.value)) {
    text.value = text.value.replace(/^effective:.*$/m, `effective: ${day}`);
  }
  chart.overlay = null;
  chart.setMarks(new Map());
  await chart.load(day).catch(() => {});
  if (text.value.trim()) check();
});

// ------------------------------------------------------------------ start

async function start() {
  initLanguage((lang) => chart.setLang(lang));
  chart.lang = currentLang();
  for (const node of document.querySelectorAll(".apply")) node.hidden = !writable;
  dateInput.value = effectiveOf(text.value) || today();
  await chart.load(dateInput.value).catch(() => {});
  chart.fit();
}

start();
