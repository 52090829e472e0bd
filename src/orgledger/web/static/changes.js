// The list of changes of a diff (change set page, plan page), in the legend's colours.

import { el, fill, unitLink } from "./common.js";

export function namesText(names) {
  const entries = Object.entries(names || {});
  if (!entries.length) return "no names";
  return entries.map(([lang, name]) => `${lang}: ${name}`).join(", ");
}

export function valueText(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  return JSON.stringify(value);
}

/** Every unit id a diff mentions (to look their names up). */
export function diffIds(diff) {
  const ids = [];
  for (const item of diff.added || []) ids.push(item.id, item.parent);
  for (const item of diff.removed || []) ids.push(item.id, item.parent);
  for (const item of diff.moved || []) ids.push(item.id, item.from, item.to);
  for (const item of diff.renamed || []) ids.push(item.id);
  for (const item of diff.changed || []) ids.push(item.id);
  return ids.filter(Boolean);
}

/** Classes and short notes to mark units on a chart showing the after-structure. */
export function diffMarks(diff) {
  const marks = new Map();
  const notes = new Map();
  const mark = (id, cls) => {
    if (!marks.has(id)) marks.set(id, []);
    if (!marks.get(id).includes(cls)) marks.get(id).push(cls);
  };
  for (const item of diff.added || []) mark(item.id, "added");
  for (const item of diff.moved || []) {
    mark(item.id, "moved");
    notes.set(item.id, `from ${item.from ?? "the top"}`);
  }
  for (const item of diff.renamed || []) mark(item.id, "renamed");
  for (const item of diff.changed || []) {
    mark(item.id, "changed");
    if (!notes.has(item.id)) notes.set(item.id, item.field);
  }
  return { marks, notes };
}

/** Render the diff as a list into `target`. `book` names units, `at` dates their links. */
export function renderChanges(target, diff, book, { at, lang, heading = "Changes" } = {}) {
  const link = (id) => (id ? unitLink(id, book, { at, lang }) : el("span", { text: "the top level" }));
  const items = [];
  for (const item of diff.added || []) {
    items.push(
      el(
        "li",
        { class: "added" },
        el("span", { class: "what", text: "created" }),
        " ",
        link(item.id),
        item.parent ? [" under ", link(item.parent)] : " as a root",
      ),
    );
  }
  for (const item of diff.removed || []) {
    items.push(
      el(
        "li",
        { class: "removed" },
        el("span", { class: "what", text: "ended" }),
        " ",
        link(item.id),
        item.parent ? [" (was under ", link(item.parent), ")"] : " (was a root)",
      ),
    );
  }
  for (const item of diff.moved || []) {
    items.push(
      el(
        "li",
        { class: "moved" },
        el("span", { class: "what", text: "moved" }),
        " ",
        link(item.id),
        " from ",
        link(item.from),
        " to ",
        link(item.to),
      ),
    );
  }
  for (const item of diff.renamed || []) {
    items.push(
      el(
        "li",
        { class: "renamed" },
        el("span", { class: "what", text: "renamed" }),
        " ",
        link(item.id),
        ` from ${namesText(item.from)} to ${namesText(item.to)}`,
      ),
    );
  }
  for (const item of diff.changed || []) {
    items.push(
      el(
        "li",
        { class: "changed" },
        el("span", { class: "what", text: "changed" }),
        " ",
        link(item.id),
        ` ${item.field} from ${valueText(item.from)} to ${valueText(item.to)}`,
      ),
    );
  }
  fill(
    target,
    el("h2", { text: `${heading} (${items.length})` }),
    items.length ? el("ul", {}, items) : el("p", { class: "empty", text: "No change to the structure." }),
  );
}
