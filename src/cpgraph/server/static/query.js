// cpgraph's query page: YASGUI (served from /static/yasgui) set up for this server alone.
// The endpoint is this server's /sparql; completion offers the server's prefixes and the
// classes and properties of this graph (asked of /sparql), never a service elsewhere; the
// results get YASR's table (sort, page, filter) and response (the RDF of a CONSTRUCT) views
// and two drawn here: a pivot table and a chart, as SVG. Nothing is fetched from another host.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("cpgraph-config").textContent);
  const Yasgui = window.Yasgui;
  if (!Yasgui) return; // the form below stays, and posts to /sparql
  const Yasqe = Yasgui.Yasqe;
  const Yasr = Yasgui.Yasr;
  const endpoint = new URL(config.endpoint, location.href).href;
  const SVG = "http://www.w3.org/2000/svg";
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = ["integer", "decimal", "double", "float", "int", "long", "short",
    "nonNegativeInteger", "positiveInteger", "gYear"].map((t) => XSD + t);
  const prefixes = Object.entries(config.prefixes).sort((a, b) => b[1].length - a[1].length);

  function shorten(iri) {
    for (const [prefix, namespace] of prefixes) {
      if (iri.startsWith(namespace) && iri.length > namespace.length) {
        const local = iri.slice(namespace.length);
        if (/^[A-Za-z_][\w.-]*$/.test(local) && !local.endsWith(".")) return prefix + ":" + local;
      }
    }
    return "<" + iri + ">";
  }

  // ---- Completion: the server's prefixes, this graph's classes and properties ----------------

  const TERMS_QUERY = `SELECT DISTINCT ?term ?kind WHERE {
  { ?term a ?meta . VALUES ?meta { owl:Class rdfs:Class } BIND("class" AS ?kind) }
  UNION { [] a ?term . BIND("class" AS ?kind) }
  UNION { ?term a ?meta . VALUES ?meta { owl:ObjectProperty owl:DatatypeProperty
          owl:AnnotationProperty rdf:Property } BIND("property" AS ?kind) }
  UNION { [] ?term [] . BIND("property" AS ?kind) }
  FILTER(isIRI(?term))
}`;
  let terms = null;
  function graphTerms() {
    terms = terms || fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/sparql-results+json" },
      body: new URLSearchParams({ query: TERMS_QUERY }).toString(),
    })
      .then((response) => (response.ok ? response.json() : { results: { bindings: [] } }))
      .then((data) => {
        const found = { class: new Set(), property: new Set() };
        for (const row of data.results.bindings) found[row.kind.value].add(shorten(row.term.value));
        return { class: [...found.class].sort(), property: [...found.property].sort() };
      })
      .catch(() => ({ class: [], property: [] }));
    return terms;
  }

  // The token as typed: prefixed names are completed as prefixed names (the server declares
  // the prefixes, so the query need not).
  const asTyped = {
    preProcessToken: (yasqe, token) => ({ ...token, autocompletionString: token.string.trim() }),
    postProcessSuggestion: (yasqe, token, suggestion) => suggestion,
    bulk: true,
    persistenceId: null,
  };
  Yasqe.forkAutocompleter("prefixes", {
    name: "cpgraph-prefixes",
    persistenceId: null,
    get: Object.entries(config.prefixes).map(([p, ns]) => p + ": <" + ns + ">"),
  }, false);
  Yasqe.forkAutocompleter("class", {
    ...asTyped, name: "cpgraph-classes", get: () => graphTerms().then((t) => t.class),
  }, false);
  Yasqe.forkAutocompleter("property", {
    ...asTyped, name: "cpgraph-properties", get: () => graphTerms().then((t) => t.property),
  }, false);
  // Only these: the stock "prefixes", "class" and "property" ask services on other hosts.
  Yasqe.defaults.autocompleters = ["cpgraph-prefixes", "cpgraph-classes", "cpgraph-properties",
    "variables"];
  Yasqe.defaults.prefixCcApi = undefined;
  // The server's prefixes count as declared: the editor neither flags cp:Law as an undefined
  // prefix nor writes PREFIX lines the server does not need (CodeMirror keeps the mode's own
  // startState as _startState).
  Yasqe.extendMode("sparql11", {
    startState(indent) {
      const state = this._startState(indent);
      state.prefixes = { ...config.prefixes };
      return state;
    },
  });

  // ---- Results drawn here: a pivot table and a chart -------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) node.append(child);
    return node;
  }
  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function termText(term) {
    if (!term) return "";
    return term.type === "uri" ? shorten(term.value) : term.value;
  }
  function numberOf(term) {
    if (!term || term.type !== "literal") return NaN;
    return parseFloat(term.value);
  }
  function isNumericVar(bindings, name) {
    const seen = bindings.filter((b) => b[name]);
    return seen.length > 0 && seen.every((b) => NUMERIC.includes(b[name].datatype) ||
      (b[name].type === "literal" && !b[name].datatype && /^-?\d+(\.\d+)?$/.test(b[name].value)));
  }
  function chooser(label, names, value, onChange) {
    const select = el("select", { onchange: () => onChange(select.value) });
    for (const name of names) select.append(el("option", { value: name, textContent: name === "" ? "(count rows)" : "?" + name, selected: name === value }));
    return el("label", { className: "cp-choice" }, label + " ", select);
  }
  function tableResults(yasr) {
    return !!(yasr.results && yasr.results.getVariables && yasr.results.getBindings() &&
      yasr.results.getVariables().length > 0);
  }
  function icon(letter) {
    const svg = svgEl("svg", { viewBox: "0 0 16 16", width: 15, height: 15, "aria-hidden": "true" });
    svg.append(svgEl("text", { x: 8, y: 13, "text-anchor": "middle", "font-size": 13, "font-weight": 700 }, letter));
    return svg;
  }
  // Sum (or count) of ``measure`` by the values of ``rowVar`` (in the results' order) and
  // ``colVar`` (sorted).
  function aggregate(bindings, rowVar, colVar, measure) {
    const cells = new Map(), rows = new Set(), cols = new Set();
    for (const b of bindings) {
      const r = termText(b[rowVar]), c = colVar ? termText(b[colVar]) : "";
      const v = measure ? numberOf(b[measure]) : 1;
      if (Number.isNaN(v)) continue;
      rows.add(r); cols.add(c);
      cells.set(r + "\u0000" + c, (cells.get(r + "\u0000" + c) || 0) + v);
    }
    return { rows: [...rows], cols: [...cols].sort(), get: (r, c) => cells.get(r + "\u0000" + c) };
  }

  class Pivot {
    constructor(yasr) { this.yasr = yasr; this.label = "Pivot"; this.priority = 5; this.choice = {}; }
    canHandleResults() { return tableResults(this.yasr); }
    getIcon() { return icon("P"); }
    draw() {
      const vars = this.yasr.results.getVariables(), bindings = this.yasr.results.getBindings();
      const numeric = vars.filter((v) => isNumericVar(bindings, v));
      const c = this.choice;
      if (!vars.includes(c.row)) c.row = vars[0];
      if (c.col && !vars.includes(c.col)) c.col = "";
      if (c.measure === undefined || (c.measure && !numeric.includes(c.measure))) {
        c.measure = numeric.find((v) => v !== c.row) || "";
      }
      const redraw = (key) => (value) => { c[key] = value; this.yasr.resultsEl.replaceChildren(); this.draw(); };
      const controls = el("div", { className: "cp-controls" },
        chooser("Rows", vars, c.row, redraw("row")),
        chooser("Columns", ["", ...vars].map((v) => v), c.col || "", redraw("col")),
        chooser("Values", ["", ...numeric], c.measure || "", redraw("measure")));
      controls.children[1].querySelector("option").textContent = "(none)";
      const agg = aggregate(bindings, c.row, c.col, c.measure);
      const table = el("table", { className: "cp-pivot" });
      const head = table.createTHead().insertRow();
      head.append(el("th", { scope: "col", textContent: "?" + c.row }));
      for (const col of agg.cols) head.append(el("th", { scope: "col", textContent: c.col ? col : (c.measure ? "sum of ?" + c.measure : "rows") }));
      const body = table.createTBody();
      for (const r of agg.rows) {
        const tr = body.insertRow();
        tr.append(el("th", { scope: "row", textContent: r }));
        for (const col of agg.cols) tr.append(el("td", { className: "n", textContent: agg.get(r, col) ?? "" }));
      }
      this.yasr.resultsEl.append(controls, el("div", { className: "table-wrap" }, table));
    }
  }

  class Chart {
    constructor(yasr) { this.yasr = yasr; this.label = "Chart"; this.priority = 4; this.choice = {}; }
    canHandleResults() { return tableResults(this.yasr); }
    getIcon() { return icon("C"); }
    draw() {
      const vars = this.yasr.results.getVariables(), bindings = this.yasr.results.getBindings();
      const numeric = vars.filter((v) => isNumericVar(bindings, v));
      const c = this.choice;
      if (!vars.includes(c.x)) c.x = vars.find((v) => !numeric.includes(v)) || vars[0];
      if (c.y === undefined || (c.y && !numeric.includes(c.y))) c.y = numeric.find((v) => v !== c.x) || "";
      const redraw = (key) => (value) => { c[key] = value; this.yasr.resultsEl.replaceChildren(); this.draw(); };
      const controls = el("div", { className: "cp-controls" },
        chooser("Categories", vars, c.x, redraw("x")),
        chooser("Values", ["", ...numeric], c.y, redraw("y")));
      const agg = aggregate(bindings, c.x, "", c.y);
      const bars = agg.rows.map((r) => [r, agg.get(r, "")]).slice(0, 60);
      this.yasr.resultsEl.append(controls, barChart(bars, c.y ? "sum of ?" + c.y : "rows"));
    }
  }

  // A horizontal bar chart: one row per category, its label left, its value at the bar's end.
  function barChart(bars, measure) {
    const labelWidth = 260, barWidth = 560, rowHeight = 22, top = 28;
    const max = Math.max(1, ...bars.map((b) => b[1]));
    const height = top + bars.length * rowHeight + 10;
    const svg = svgEl("svg", { class: "cp-chart", role: "img", viewBox: `0 0 ${labelWidth + barWidth + 80} ${height}`,
      width: labelWidth + barWidth + 80, height, "aria-label": `Bar chart of ${measure}` });
    svg.append(svgEl("text", { x: labelWidth, y: 16, class: "cp-axis" }, measure + " (0 to " + max + ")"));
    bars.forEach(([label, value], i) => {
      const y = top + i * rowHeight;
      const shown = label.length > 34 ? label.slice(0, 33) + "…" : label;
      const text = svgEl("text", { x: labelWidth - 8, y: y + 15, "text-anchor": "end" }, shown);
      text.append(svgEl("title", {}, label));
      svg.append(text, svgEl("rect", { x: labelWidth, y: y + 3, height: rowHeight - 6,
        width: Math.max(1, (value / max) * barWidth), class: "cp-bar" }),
      svgEl("text", { x: labelWidth + (value / max) * barWidth + 6, y: y + 15, class: "cp-value" }, String(value)));
    });
    return el("div", { className: "cp-chart-wrap" }, svg);
  }

  Yasr.registerPlugin("pivot", Pivot);
  Yasr.registerPlugin("chart", Chart);

  // ---- YASGUI, for this server ------------------------------------------------------------

  const form = document.getElementById("query-form");
  const root = document.getElementById("yasgui");
  form.hidden = true;
  const yasgui = new Yasgui(root, {
    requestConfig: { endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    populateFromUrl: false, // the server read ?query= and gives it below
    endpointCatalogueOptions: { getData: () => [{ endpoint }], keys: [] },
    persistenceId: "cpgraph-query",
    tabName: "Query",
    yasqe: { value: config.query, collapsePrefixesOnLoad: true, autofocus: false },
    yasr: {
      prefixes: config.prefixes,
      pluginOrder: ["table", "response", "pivot", "chart"],
      defaultPlugin: "table",
    },
  });
  if (config.given) {
    const tab = yasgui.getTab();
    if (tab.getQuery().trim() !== config.query.trim()) {
      yasgui.addTab(true, { name: "Linked query", yasqe: { value: config.query },
        requestConfig: { ...Yasgui.defaults.requestConfig, endpoint, method: "POST" } });
    }
  }
  for (const id of Object.keys(yasgui._tabs || {})) {
    const tab = yasgui.getTab(id);
    if (tab && tab.getEndpoint && tab.getEndpoint() !== endpoint) tab.setEndpoint(endpoint);
  }
  // IRIs of this dataset link to this server's page for them, in this window (as the other
  // pages do), so that a result can be followed offline; YASR links every IRI to itself, and DOMPurify has
  // already taken out any href that is not http(s), mailto and the like.
  function localise(node) {
    for (const a of node.querySelectorAll ? node.querySelectorAll("a.iri") : []) {
      const href = a.getAttribute("href") || "";
      const rest = href.startsWith(config.base) ? href.slice(config.base.length) : null;
      if (rest === null || !/^(id\/|graph\/|ontology|shapes)/.test(rest)) continue;
      a.setAttribute("href", "/" + rest);
      a.removeAttribute("target"); // a page of this site opens here; the tabs are kept
      a.removeAttribute("rel");
    }
  }
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) localise(node.parentNode || node);
  }).observe(root, { childList: true, subtree: true });
  localise(root);
  window.cpgraphYasgui = yasgui; // for people and tests at the console
  if (new URLSearchParams(location.search).has("run")) yasgui.getTab().query();
})();
