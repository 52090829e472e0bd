// The org chart widget shared by the chart, change set and plan pages: d3-org-chart over
// the ledger's forest on one date, loading deeper levels only when they are opened.
//
// Every card is an HTML string (d3-org-chart's nodeContent); every stored text in it
// goes through escapeHtml. Everything else is built with the DOM or d3 (text, attr).

import { addLanguages, api, download, escapeHtml, pickName, pool, showStatus } from "./common.js";

const FOREST = "__forest__"; // the virtual root above several roots (unit ids are slugs)
const MORE = "__more__:"; // a placeholder child standing for children not loaded yet
const EXPAND_LIMIT = 2500; // "Expand all" opens whole levels up to this many units
const PAGE = 80; // children shown at first under one unit; a button shows the next ones
const CARD = { width: 236, height: 104 };
let instances = 0;

const MARK_TEXT = {
  added: "created",
  moved: "moved",
  renamed: "renamed",
  changed: "changed",
};

export class ForestChart {
  /**
   * container: the element to draw in. options: depth (levels loaded first), open
   * (levels shown first), onSelect(unit), draggable, onDrop(unit, target), overview
   * (an element for the minimap).
   */
  constructor(container, options = {}) {
    this.container = container;
    this.options = { depth: 2, open: 1, duration: 350, ...options };
    this.uid = `oc${++instances}`;
    this.lang = options.lang || "en";
    this.at = null;
    this.units = new Map(); // id -> unit as the API gives it (with `children`)
    this.complete = new Set(); // ids whose children are all in `units`
    this.datums = new Map(); // id -> the chart's datum, kept so that flags survive reloads
    this.loading = new Set();
    this.marks = new Map(); // id -> [class, ...] (added, moved, renamed, changed)
    this.notes = new Map(); // id -> short text shown on the card ("from sng")
    this.overlay = null; // a diff applied on top of the loaded units (plan previews)
    this.highlighted = null;
    this.selected = null;
    this.compact = options.compact ?? true;
    this.generation = 0;
    this.list = [];
    this.chart = this.makeChart(container, { duration: this.options.duration });
    this.afterUpdate = this.afterUpdate.bind(this);
    if (options.overview) this.attachOverview(options.overview);
    window.addEventListener("resize", () => this.resize());
  }

  // ------------------------------------------------------------ the d3-org-chart instance

  makeChart(container, { duration, exporting = false }) {
    const self = this;
    const prefix = exporting ? `${this.uid}x` : this.uid;
    const chart = new d3.OrgChart()
      .container(container)
      .svgHeight(Math.max(container.clientHeight || 0, exporting ? 800 : 360))
      .nodeId((d) => d.id)
      .parentNodeId((d) => d.parentId)
      .nodeWidth((node) => (node.data.placeholder ? 180 : node.data.virtual ? 200 : CARD.width))
      .nodeHeight((node) => (node.data.placeholder ? 56 : node.data.virtual ? 64 : CARD.height))
      .childrenMargin(() => 56)
      .siblingsMargin(() => 18)
      .neighbourMargin(() => 36)
      .compactMarginBetween(() => 22)
      .compactMarginPair(() => 70)
      .initialExpandLevel(1)
      .compact(this.compact)
      .duration(duration)
      .setActiveNodeCentered(false)
      .pagingStep(() => 40)
      .minPagingVisibleNodes(() => (exporting ? 1e9 : PAGE))
      .imageName("orgledger")
      .nodeContent((node) => this.cardHtml(node))
      .buttonContent(({ node }) => this.buttonHtml(node))
      .pagingButton((node, i, arr, state) => {
        const parent = node.parent.data;
        const left = parent._directSubordinatesPaging - parent._pagingStep;
        const next = Math.min(left, state.pagingStep(node.parent));
        const text = next < left ? `Show ${next} more (${left} not shown)` : `Show the other ${left}`;
        return `<div class="paging">${escapeHtml(text)}</div>`;
      })
      .nodeUpdate(function (node) {
        self.decorateNode(this, node, exporting);
      })
      .linkUpdate(function (node) {
        d3.select(this).attr("class", "link").classed("ancestor", !!node.data._upToTheRootHighlighted);
      })
      .onNodeClick((node) => this.clicked(node))
      .defs(function (state, visible) {
        return self.defs(this, state, visible, prefix);
      })
      .connectionsUpdate(function (connection, index) {
        self.decorateConnection(this, connection, index, prefix);
      })
      .linkGroupArc(({ source, target }) => {
        // Drawn left to right, so that the label on the path reads the right way up.
        const [a, b] = source.x <= target.x ? [source, target] : [target, source];
        const dx = (b.x - a.x) / 2;
        return `M${a.x},${a.y} C${a.x + dx},${a.y} ${b.x - dx},${b.y} ${b.x},${b.y}`;
      });
    if (!exporting) {
      chart.onZoom(() => this.drawOverviewViewport());
      chart.onZoomEnd(() => this.drawOverviewViewport());
    }
    return chart;
  }

  // ------------------------------------------------------------ loading

  /** Load the forest as of `at` (levels 0..depth) and draw it. */
  async load(at) {
    const generation = ++this.generation;
    const body = await api(`/api/v1/snapshot?at=${encodeURIComponent(at)}&depth=${this.options.depth}`);
    if (generation !== this.generation) return false;
    this.at = at;
    this.units = new Map();
    this.complete = new Set();
    this.loading.clear();
    this.allLoaded = false;
    this.merge(body.units);
    for (const unit of body.units) {
      if (unit.depth < this.options.depth) this.complete.add(unit.id);
    }
    if (!this.units.has(this.highlighted)) this.highlighted = null;
    if (!this.units.has(this.selected)) this.selected = null;
    this.render();
    return true;
  }

  merge(units) {
    for (const unit of units) this.units.set(unit.id, unit);
    addLanguages(units.map((u) => u.names));
  }

  /** Load the children of `id` (one level) and draw them. */
  async loadChildren(id) {
    if (this.complete.has(id)) {
      this.render(); // loaded meanwhile (by "expand all" or an export): drop the placeholder
      return;
    }
    if (this.loading.has(id) || !this.at) return;
    this.loading.add(id);
    const generation = this.generation;
    try {
      const body = await api(
        `/api/v1/snapshot?at=${encodeURIComponent(this.at)}&root=${encodeURIComponent(id)}&depth=1`,
      );
      if (generation !== this.generation) return;
      this.merge(body.units);
      this.complete.add(id);
      // Show the new children (the first page of them, for a very wide level).
      const children = body.units.filter((unit) => unit.parent === id).map((unit) => unit.id);
      children.sort();
      children.slice(0, PAGE).forEach((child) => (this.datum(child)._expanded = true));
    } finally {
      this.loading.delete(id);
    }
    if (generation === this.generation) this.render();
  }

  /** Load every unit on the date (for "expand all" and the exports). */
  async loadAll() {
    if (!this.at) return;
    const missing = [...this.units.values()].some((u) => u.children > 0 && !this.complete.has(u.id));
    if (!missing) return;
    const generation = this.generation;
    const body = await api(`/api/v1/snapshot?at=${encodeURIComponent(this.at)}`);
    if (generation !== this.generation) return;
    this.merge(body.units);
    for (const unit of body.units) this.complete.add(unit.id);
  }

  /** Make sure these units are loaded, with the path from their root down to them. */
  async reveal(ids) {
    const missing = ids.filter((id) => id && !this.units.has(id));
    if (!missing.length || !this.at) return;
    const at = this.at;
    const generation = this.generation;
    const parents = new Set();
    await pool(missing, 8, async (id) => {
      try {
        const found = await api(`/api/v1/units/${encodeURIComponent(id)}?at=${encodeURIComponent(at)}`, {
          quiet: true,
        });
        if (found.active) for (const ancestor of found.path.slice(0, -1)) parents.add(ancestor);
      } catch {
        // an unknown unit: nothing to show
      }
    });
    const todo = [...parents].filter((id) => !this.complete.has(id));
    await pool(todo, 8, async (id) => {
      const body = await api(
        `/api/v1/snapshot?at=${encodeURIComponent(at)}&root=${encodeURIComponent(id)}&depth=1`,
        { quiet: true },
      );
      if (generation !== this.generation) return;
      this.merge(body.units);
      this.complete.add(id);
    });
  }

  // ------------------------------------------------------------ the data the chart draws

  datum(id) {
    let datum = this.datums.get(id);
    if (!datum) {
      datum = { id, parentId: null };
      this.datums.set(id, datum);
    }
    return datum;
  }

  /** The units to draw: the loaded ones, with the overlay (a plan's diff) applied. */
  shownUnits() {
    if (!this.overlay) return this.units;
    const units = new Map(this.units);
    const diff = this.overlay;
    for (const item of diff.removed || []) units.delete(item.id);
    for (const item of diff.added || []) {
      const known = (this.overlayUnits && this.overlayUnits.get(item.id)) || {};
      units.set(item.id, {
        id: item.id,
        parent: item.parent,
        kind: known.kind || "new",
        names: known.names || { en: item.id },
        abbr: known.abbr || null,
        attrs: known.attrs || {},
        links: [],
        children: 0,
      });
    }
    const edit = (id, change) => {
      const unit = units.get(id);
      if (unit) units.set(id, { ...unit, ...change(unit) });
    };
    for (const item of diff.moved || []) edit(item.id, () => ({ parent: item.to }));
    for (const item of diff.renamed || []) edit(item.id, () => ({ names: item.to || {} }));
    for (const item of diff.changed || []) {
      edit(item.id, (unit) => {
        if (item.field === "kind") return { kind: item.to };
        if (item.field === "abbr") return { abbr: item.to };
        if (item.field.startsWith("attrs.")) {
          const attrs = { ...unit.attrs };
          const key = item.field.slice(6);
          if (item.to === null) delete attrs[key];
          else attrs[key] = item.to;
          return { attrs };
        }
        return {};
      });
    }
    return units;
  }

  /** Turn the units into d3-org-chart's flat list (one root) and its connections. */
  build() {
    const units = this.shownUnits();
    const kids = new Map();
    const roots = [];
    for (const unit of units.values()) {
      if (unit.parent === null || unit.parent === undefined) roots.push(unit.id);
      else if (units.has(unit.parent)) {
        if (!kids.has(unit.parent)) kids.set(unit.parent, []);
        kids.get(unit.parent).push(unit.id);
      }
    }
    roots.sort();
    for (const list of kids.values()) list.sort();
    const virtual = roots.length !== 1;
    const list = [];
    const shown = new Set();
    if (virtual) {
      const forest = this.datum(FOREST);
      Object.assign(forest, { parentId: null, virtual: true, count: roots.length });
      if (forest._expanded === undefined) forest._expanded = true;
      list.push(forest);
    }
    const stack = roots.map((id, index) => [id, virtual ? FOREST : null, 0, index]).reverse();
    while (stack.length) {
      const [id, parentId, depth, index] = stack.pop();
      if (shown.has(id)) continue;
      shown.add(id);
      const unit = units.get(id);
      const children = kids.get(id) || [];
      const complete = this.complete.has(id) || this.allLoaded;
      const datum = this.datum(id);
      Object.assign(datum, {
        parentId,
        unit,
        depth,
        placeholder: false,
        virtual: false,
        count: complete ? children.length : Math.max(unit.children || 0, children.length),
      });
      if (datum._expanded === undefined) datum._expanded = depth <= this.options.open && index < PAGE;
      datum._highlighted = id === this.highlighted;
      list.push(datum);
      if (!complete && (unit.children || 0) > children.length) {
        const more = this.datum(`${MORE}${id}`);
        Object.assign(more, {
          parentId: id,
          placeholder: true,
          of: id,
          count: (unit.children || 0) - children.length,
          unit: null,
        });
        if (more._expanded === undefined) more._expanded = false;
        list.push(more);
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], id, depth + 1, i]);
    }
    const connections = [];
    for (const id of shown) {
      for (const link of units.get(id).links || []) {
        if (shown.has(link.to) && link.to !== id) {
          connections.push({ from: id, to: link.to, label: link.type });
        }
      }
    }
    this.list = list;
    this.shown = shown;
    this.connections = connections;
    return { list, connections };
  }

  /** Draw the current state (cards, connections, overview). */
  render() {
    const { list, connections } = this.build();
    const empty = list.length === 0 || (list.length === 1 && list[0].virtual);
    this.empty = empty;
    this.container.classList.toggle("empty", empty);
    if (empty) {
      this.chart.data([]).connections([]).render();
      this.container.dataset.empty = `Nothing is recorded on ${this.at || "this date"}.`;
      this.drawOverview();
      return;
    }
    delete this.container.dataset.empty;
    this.chart.data(list).connections(connections).render();
    this.scheduleAfterUpdate();
  }

  // ------------------------------------------------------------ cards

  cardHtml(node) {
    const data = node.data;
    if (data.virtual) {
      return `<div class="card forest"><div class="name">As of ${escapeHtml(this.at)}</div>
        <div class="meta">${escapeHtml(data.count)} separate structures</div></div>`;
    }
    if (data.placeholder) {
      const busy = this.loading.has(data.of);
      return `<div class="card more" data-more="${escapeHtml(data.of)}">${
        busy ? "Loading" : "Open to load"
      } ${escapeHtml(data.count)} unit${data.count === 1 ? "" : "s"}…</div>`;
    }
    const unit = data.unit;
    const name = pickName(unit.names, this.lang, unit.id);
    const marks = this.marks.get(unit.id) || [];
    const classes = ["card", ...marks];
    if (unit.id === this.highlighted) classes.push("highlighted");
    if (unit.id === this.selected) classes.push("selected");
    const attrs = Object.entries(unit.attrs || {})
      .slice(0, 2)
      .map(([k, v]) => `<span class="attr">${escapeHtml(k)}: ${escapeHtml(v)}</span>`)
      .join("");
    const tags = marks.map((m) => `<span class="tag ${escapeHtml(m)}">${escapeHtml(MARK_TEXT[m] || m)}</span>`);
    const note = this.notes.get(unit.id);
    return `<div class="${classes.join(" ")}" data-id="${escapeHtml(unit.id)}" title="${escapeHtml(name)}">
      <div class="name">${escapeHtml(name)}</div>
      <div class="meta">${unit.abbr ? `<span class="abbr">${escapeHtml(unit.abbr)}</span>` : ""}<span class="id">${escapeHtml(
        unit.id,
      )}</span> · <span class="kind">${escapeHtml(unit.kind)}</span></div>
      <div class="attrs">${tags.join("")}${note ? `<span class="note">${escapeHtml(note)}</span>` : attrs}</div>
      <span class="badge" title="children">${escapeHtml(data.count)}</span>
    </div>`;
  }

  buttonHtml(node) {
    const open = !!node.children;
    const label = open ? "−" : "+";
    return `<div class="node-button${open ? " open" : ""}">${label}<span>${escapeHtml(node.data.count)}</span></div>`;
  }

  decorateNode(element, node, exporting) {
    const data = node.data;
    const g = d3.select(element);
    g.classed("placeholder", !!data.placeholder)
      .classed("virtual", !!data.virtual)
      .classed("highlighted", !!data._highlighted)
      .classed("selected", !data.virtual && !data.placeholder && data.id === this.selected)
      .attr("data-id", data.virtual || data.placeholder ? null : data.id);
    g.select(".node-rect").attr("stroke", "none").attr("fill", "none");
    if (!exporting && this.options.draggable && !data.virtual && !data.placeholder) {
      g.call(this.dragBehaviour());
    }
    if (!exporting) this.scheduleAfterUpdate();
  }

  defs(chart, state, visible, prefix) {
    // The labels of dotted-line links follow their paths (textPath), as text nodes.
    const group = state.centerG
      .selectAll("g.connection-labels")
      .data([0])
      .join("g")
      .attr("class", "connection-labels");
    group
      .selectAll("text")
      .data(visible)
      .join("text")
      .attr("class", "connection-label")
      .attr("dy", -5)
      .selectAll("textPath")
      .data((c, i) => [{ label: c.label, i }])
      .join("textPath")
      .attr("href", (d) => `#${prefix}-c${d.i}`)
      .attr("startOffset", "50%")
      .attr("text-anchor", "middle")
      .text((d) => d.label);
    return `<defs><marker id="${prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"
      markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow"/></marker></defs>`;
  }

  decorateConnection(element, connection, index, prefix) {
    const swapped = connection._source && connection._target && connection._source.x > connection._target.x;
    d3.select(element)
      .attr("id", `${prefix}-c${index}`)
      .attr("class", "connection dotted")
      .attr("fill", "none")
      .attr("stroke-dasharray", "6 4")
      .attr("pointer-events", "none")
      .attr("marker-end", swapped ? null : `url(#${prefix}-arrow)`)
      .attr("marker-start", swapped ? `url(#${prefix}-arrow)` : null)
      .attr("data-type", connection.label);
  }

  // ------------------------------------------------------------ interaction

  clicked(node) {
    const data = node.data;
    if (data.placeholder) {
      this.loadChildren(data.of);
      return;
    }
    if (data.virtual || !this.options.onSelect) return;
    this.options.onSelect(data.unit, node);
  }

  scheduleAfterUpdate() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(this.afterUpdate);
  }

  afterUpdate() {
    this.pending = false;
    const state = this.chart.getChartState();
    if (!state.root) return;
    // A placeholder that became visible (its parent was opened): load what it stands for.
    for (const node of state.root.descendants()) {
      if (node.data.placeholder && !this.loading.has(node.data.of)) this.loadChildren(node.data.of);
    }
    this.drawOverview();
    setTimeout(() => this.drawOverviewViewport(), this.options.duration + 60);
  }

  /** Reveal, open the path to, highlight and centre one unit. */
  async focus(id) {
    await this.reveal([id]);
    if (!this.units.has(id)) return false;
    this.highlighted = id;
    for (const datum of this.datums.values()) {
      datum._highlighted = false;
      datum._upToTheRootHighlighted = false;
    }
    this.build();
    this.chart.data(this.list);
    this.chart.setHighlighted(id);
    this.render();
    return true;
  }

  select(id) {
    this.selected = id;
    this.render();
  }

  /** Show these units (open the path to each) without moving the view. */
  async show(ids) {
    const before = this.shownUnits();
    await this.reveal(ids.filter((id) => !before.has(id)));
    const shown = this.shownUnits();
    for (const id of ids) if (shown.has(id)) this.datum(id)._expanded = true;
    this.render();
  }

  setLang(lang) {
    this.lang = lang;
    if (this.list.length) this.render();
  }

  setMarks(marks, notes = new Map()) {
    this.marks = marks;
    this.notes = notes;
  }

  fit() {
    if (!this.empty && this.list.length) this.chart.fit();
  }

  async expandAll() {
    await this.loadAll();
    const units = this.shownUnits();
    const kids = new Map();
    for (const unit of units.values()) {
      if (!kids.has(unit.parent)) kids.set(unit.parent, []);
      kids.get(unit.parent).push(unit.id);
    }
    let level = kids.get(null) || kids.get(undefined) || [];
    let count = 0;
    let capped = false;
    while (level.length) {
      if (count + level.length > EXPAND_LIMIT && count > 0) {
        capped = true;
        break;
      }
      for (const id of level) this.datum(id)._expanded = true;
      count += level.length;
      level = level.flatMap((id) => kids.get(id) || []);
    }
    this.render();
    this.fit();
    if (capped) {
      showStatus(`Opened the first levels (${count} units); open deeper units one by one.`, "info");
    }
  }

  collapse() {
    for (const datum of this.datums.values()) {
      if (datum.virtual) continue;
      datum._expanded = datum.placeholder ? false : (datum.depth ?? 99) <= this.options.open;
    }
    this.render();
    this.fit();
  }

  toggleCompact() {
    this.compact = !this.compact;
    this.chart.compact(this.compact);
    this.render();
    this.fit();
    return this.compact;
  }

  resize() {
    const height = this.container.clientHeight;
    if (height > 0 && this.chart.getChartState().svg) {
      this.chart.svgHeight(height);
      this.chart.getChartState().svg.attr("height", height);
    }
  }

  // ------------------------------------------------------------ drag and drop (plans)

  dragBehaviour() {
    if (this.drag) return this.drag;
    const self = this;
    this.drag = d3
      .drag()
      .clickDistance(5)
      .on("start", function () {
        d3.select(this).interrupt();
      })
      .on("drag", function (event, node) {
        d3.select(this)
          .classed("dragging", true)
          .attr("transform", `translate(${event.x - node.width / 2},${event.y})`);
      })
      .on("end", function (event, node) {
        const element = d3.select(this);
        if (!element.classed("dragging")) return;
        element.classed("dragging", false);
        const source = event.sourceEvent;
        const point = source && source.changedTouches ? source.changedTouches[0] : source;
        let target = null;
        if (point) {
          for (const hit of document.elementsFromPoint(point.clientX, point.clientY)) {
            const g = hit.closest && hit.closest("g.node");
            if (g && g !== this) {
              target = d3.select(g).datum();
              break;
            }
          }
        }
        self.render();
        if (target && target.data && target.data.unit && self.options.onDrop) {
          self.options.onDrop(node.data.unit, target.data.unit);
        }
      });
    return this.drag;
  }

  // ------------------------------------------------------------ overview (minimap)

  attachOverview(element) {
    this.overview = d3
      .select(element)
      .append("svg")
      .attr("class", "minimap")
      .attr("role", "img")
      .attr("aria-label", "Overview of the chart; click to move there");
    this.overview.append("g").attr("class", "mini-nodes");
    this.overview.append("rect").attr("class", "mini-view");
    this.overview.on("click", (event) => {
      const box = this.overviewBox;
      if (!box) return;
      const [px, py] = d3.pointer(event, this.overview.node());
      this.panTo(px, py);
    });
  }

  layoutBox(nodes) {
    const xs = nodes.map((d) => d.x - d.width / 2);
    const ys = nodes.map((d) => d.y);
    return {
      x0: Math.min(...xs) - 20,
      y0: Math.min(...ys) - 20,
      x1: Math.max(...nodes.map((d) => d.x + d.width / 2)) + 20,
      y1: Math.max(...nodes.map((d) => d.y + d.height)) + 20,
    };
  }

  drawOverview() {
    if (!this.overview) return;
    const state = this.chart.getChartState();
    const nodes = state.root && this.list.length ? state.root.descendants() : [];
    if (!nodes.length || this.container.classList.contains("empty")) {
      this.overview.select(".mini-nodes").selectAll("rect").remove();
      this.overview.select(".mini-view").attr("width", 0);
      this.overviewBox = null;
      return;
    }
    const box = this.layoutBox(nodes);
    this.overviewBox = box;
    this.overview.attr("viewBox", `${box.x0} ${box.y0} ${box.x1 - box.x0} ${box.y1 - box.y0}`);
    this.overview
      .select(".mini-nodes")
      .selectAll("rect")
      .data(nodes, (d) => d.data.id)
      .join("rect")
      .attr("x", (d) => d.x - d.width / 2)
      .attr("y", (d) => d.y)
      .attr("width", (d) => d.width)
      .attr("height", (d) => d.height)
      .attr("class", (d) =>
        [
          "mini-node",
          ...(d.data.unit ? this.marks.get(d.data.unit.id) || [] : []),
          d.data._highlighted ? "highlighted" : "",
        ].join(" "),
      );
    this.drawOverviewViewport();
  }

  drawOverviewViewport() {
    if (!this.overview || !this.overviewBox) return;
    const state = this.chart.getChartState();
    const g = state.centerG && state.centerG.node();
    if (!g || !g.getCTM()) return;
    const inverse = g.getCTM().inverse();
    const a = new DOMPoint(0, 0).matrixTransform(inverse);
    const b = new DOMPoint(state.svgWidth, state.svgHeight).matrixTransform(inverse);
    this.overview
      .select(".mini-view")
      .attr("x", Math.min(a.x, b.x))
      .attr("y", Math.min(a.y, b.y))
      .attr("width", Math.abs(b.x - a.x))
      .attr("height", Math.abs(b.y - a.y));
  }

  /** Move the view so that the layout point (x, y) is in the middle. */
  panTo(x, y) {
    const state = this.chart.getChartState();
    const local = state.centerG.node().transform.baseVal.consolidate();
    const m = local ? local.matrix : new DOMMatrix();
    const p = new DOMPoint(x, y).matrixTransform(m);
    state.svg.transition().duration(250).call(state.zoomBehavior.translateTo, p.x, p.y);
  }

  // ------------------------------------------------------------ export

  /** The whole chart (every unit on the date, opened) as a standalone SVG document. */
  async wholeSvg() {
    if (this.empty || !this.list.length) throw new Error(`Nothing is recorded on ${this.at}: no chart to export.`);
    await this.loadAll();
    this.allLoaded = true;
    const holder = document.createElement("div");
    holder.className = "export-holder";
    holder.setAttribute("aria-hidden", "true");
    document.body.append(holder);
    const saved = new Map([...this.datums].map(([id, d]) => [id, { ...d }]));
    try {
      const { list, connections } = this.build();
      const copies = list.filter((d) => !d.placeholder).map((d) => ({ ...d, _expanded: true }));
      const chart = this.makeChart(holder, { duration: 0, exporting: true });
      chart.compact(this.compact).data(copies).connections(connections.map((c) => ({ ...c }))).render();
      await settle(holder);
      const state = chart.getChartState();
      const nodes = state.root.descendants();
      const box = this.layoutBox(nodes);
      const svg = state.svg.node().cloneNode(true);
      svg.querySelector("g.chart")?.removeAttribute("transform");
      svg.querySelector("g.center-group")?.removeAttribute("transform");
      const width = Math.ceil(box.x1 - box.x0);
      const height = Math.ceil(box.y1 - box.y0);
      svg.setAttribute("xmlns", "http://www.w3.org/2000/svg");
      svg.setAttribute("viewBox", `${box.x0} ${box.y0} ${width} ${height}`);
      svg.setAttribute("width", width);
      svg.setAttribute("height", height);
      svg.removeAttribute("cursor");
      const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
      style.textContent = chartCss();
      svg.insertBefore(style, svg.firstChild);
      const background = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      for (const [k, v] of Object.entries({ x: box.x0, y: box.y0, width, height, fill: "#ffffff" })) {
        background.setAttribute(k, v);
      }
      svg.insertBefore(background, style.nextSibling);
      chart.clear();
      return { text: new XMLSerializer().serializeToString(svg), width, height, count: copies.length };
    } finally {
      holder.remove();
      this.allLoaded = false;
      for (const [id, d] of saved) Object.assign(this.datums.get(id) || {}, d);
      this.render();
    }
  }

  async exportSvg() {
    const { text, count } = await this.wholeSvg();
    const svg = `<?xml version="1.0" encoding="UTF-8"?>\n${text}`;
    download(new Blob([svg], { type: "image/svg+xml" }), `orgledger-${this.at}.svg`);
    return count;
  }

  async exportPng() {
    const { text, width, height } = await this.wholeSvg();
    // Browsers refuse canvases much larger than 16384 pixels a side (or about 2^27 in all).
    const scale = Math.min(2, 16384 / width, 16384 / height, Math.sqrt(120e6 / (width * height)));
    // A data: URL, not a blob: one: Chrome taints a canvas drawn from a blob: SVG that
    // holds HTML (the cards), and a tainted canvas cannot be saved.
    const image = new Image();
    await new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = () => reject(new Error("the chart could not be drawn as an image"));
      image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
    });
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    const context = canvas.getContext("2d");
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    if (!blob) throw new Error("the browser could not make a PNG of this chart; export it as SVG");
    download(blob, `orgledger-${this.at}.png`);
    return scale;
  }
}

/** Wait until the chart in `root` has finished its transitions. */
async function settle(root, limit = 3000) {
  const start = performance.now();
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  await frame();
  while (performance.now() - start < limit) {
    const busy = [...root.querySelectorAll("g, path, rect")].some((n) => n.__transition);
    if (!busy) return;
    await frame();
  }
}

/** The rules of app.css, embedded in exported charts so that they look the same. */
function chartCss() {
  const rules = [];
  for (const sheet of document.styleSheets) {
    if (!sheet.href || !sheet.href.endsWith("/static/app.css")) continue;
    try {
      for (const rule of sheet.cssRules) rules.push(rule.cssText);
    } catch {
      // not readable: the export keeps its structure without the styles
    }
  }
  return rules.join("\n");
}
