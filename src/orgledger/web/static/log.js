// The log page: every change set in effective order, with its magnitude as a bar.

import {
  $,
  api,
  changesetLink,
  el,
  fill,
  initLanguage,
  magnitudeBar,
  magnitudeText,
} from "./common.js";

async function start() {
  initLanguage();
  let log;
  try {
    log = await api("/api/v1/log");
  } catch {
    return;
  }
  const body = $("#log tbody");
  if (!log.length) {
    fill(body, el("tr", {}, el("td", { colspan: 6, class: "muted", text: "Nothing is recorded yet." })));
    return;
  }
  fill(
    body,
    log.map((entry) =>
      el(
        "tr",
        { dataset: { changeset: entry.id } },
        el("td", { class: "mono", text: entry.effective }),
        el("td", {}, changesetLink(entry.id)),
        el(
          "td",
          {},
          entry.title || "",
          entry.supersedes ? el("span", { class: "muted" }, " (corrects ", changesetLink(entry.supersedes), ")") : null,
        ),
        el("td", { class: "num", text: String(entry.ops) }),
        el(
          "td",
          { class: "magnitude", title: `magnitude ${entry.magnitude}` },
          magnitudeText(entry.magnitude),
          magnitudeBar(entry.magnitude),
        ),
        el(
          "td",
          {},
          entry.largest_since ? changesetLink(entry.largest_since) : el("span", { class: "muted", text: "largest so far" }),
        ),
      ),
    ),
  );
}

start();
