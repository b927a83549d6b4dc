// cpgraph's query page: line numbers, running the query against /sparql with fetch(),
// drawing the result as a table, marking the line of a syntax error, and a download link.
// No libraries; everything here is served by cpgraph itself.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("cpgraph-config").textContent);
  const form = document.getElementById("query-form");
  const editor = document.getElementById("query");
  const gutter = document.getElementById("gutter");
  const format = document.getElementById("format");
  const run = document.getElementById("run");
  const download = document.getElementById("download");
  const errorBox = document.getElementById("query-error");
  const status = document.getElementById("status");
  const table = document.getElementById("results-table");
  const MAX_ROWS = 1000;
  const TABLE_FORMATS = ["json", "csv", "tsv", "xml"];
  const XSD_STRING = "http://www.w3.org/2001/XMLSchema#string";
  const prefixes = Object.entries(config.prefixes).sort((a, b) => b[1].length - a[1].length);
  let errorLine = null;

  function drawGutter() {
    const lines = editor.value.split("\n").length;
    const spans = [];
    for (let i = 1; i <= lines; i++) {
      const mark = i === errorLine ? ' class="err" title="the error is on this line"' : "";
      spans.push("<span" + mark + ">" + i + "</span>");
    }
    gutter.innerHTML = spans.join("");
    gutter.scrollTop = editor.scrollTop;
  }

  function updateDownload() {
    const params = new URLSearchParams({ query: editor.value, format: format.value });
    download.href = config.endpoint + "?" + params.toString();
    download.setAttribute("download", "result." + format.value);
  }

  function clearError() {
    errorLine = null;
    errorBox.hidden = true;
    errorBox.textContent = "";
    editor.removeAttribute("aria-invalid");
  }

  function showError(problem) {
    let where = "";
    if (problem.line) {
      errorLine = problem.line;
      where = "Line " + problem.line + (problem.column ? ", column " + problem.column : "") + ": ";
      editor.setAttribute("aria-invalid", "true");
      placeCaret(problem.line, problem.column || 1);
    }
    const detail = problem.detail || problem.title || "the query failed";
    errorBox.textContent = (problem.title ? problem.title + ". " : "") + detail.replace(/^line \d+, column \d+: /, where);
    errorBox.hidden = false;
    drawGutter();
  }

  function placeCaret(line, column) {
    const lines = editor.value.split("\n");
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    editor.focus();
    editor.setSelectionRange(offset, offset);
  }

  function shorten(iri) {
    for (const [prefix, namespace] of prefixes) {
      if (iri.startsWith(namespace) && iri.length > namespace.length) {
        return prefix + ":" + iri.slice(namespace.length);
      }
    }
    return iri;
  }

  // Whether an IRI may be a link, as the server's pages decide (cpgraph.pages.may_link):
  // http, https and mailto only, the scheme read as a browser reads an href. Another scheme,
  // javascript: above all, would run in this page when clicked.
  const LINK_SCHEMES = ["http", "https", "mailto"];
  function mayLink(iri) {
    const text = iri.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "").replace(/[\t\n\r]/g, "");
    const colon = text.indexOf(":");
    return colon > 0 && LINK_SCHEMES.includes(text.slice(0, colon).toLowerCase());
  }

  // Where a link to an IRI goes: this server's page for it, the IRI itself, or null (text).
  function localHref(iri) {
    if (iri.startsWith(config.base)) {
      const rest = iri.slice(config.base.length);
      if (/^(id\/|graph\/|ontology|shapes)/.test(rest)) return "/" + rest;
    }
    return mayLink(iri) ? iri : null;
  }

  // One RDF term (SPARQL JSON form) as a table cell's content.
  function cell(term) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      const href = localHref(term.value);
      const shown = document.createElement(href === null ? "span" : "a");
      if (href === null) shown.className = "unlinked";
      else shown.href = href;
      shown.title = term.value;
      shown.textContent = shorten(term.value);
      td.appendChild(shown);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      const span = document.createElement("span");
      span.textContent = term.value;
      const lang = term["xml:lang"];
      if (lang) span.lang = lang;
      td.appendChild(span);
      const note = lang ? "@" + lang : term.datatype && term.datatype !== XSD_STRING ? shorten(term.datatype) : "";
      if (note) {
        const small = document.createElement("small");
        small.className = lang ? "lang" : "datatype";
        small.textContent = " " + note;
        td.appendChild(small);
      }
    }
    return td;
  }

  function drawTable(vars, rows) {
    table.replaceChildren();
    const thead = table.createTHead().insertRow();
    for (const name of ["#", ...vars]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name === "#" ? "#" : "?" + name;
      thead.appendChild(th);
    }
    const tbody = table.createTBody();
    rows.slice(0, MAX_ROWS).forEach((row, i) => {
      const tr = tbody.insertRow();
      const n = document.createElement("td");
      n.className = "row-n";
      n.textContent = String(i + 1);
      tr.appendChild(n);
      for (const name of vars) tr.appendChild(cell(row[name]));
    });
    table.hidden = false;
  }

  // N-Triples (what a CONSTRUCT or DESCRIBE comes back as here) into SPARQL-JSON-like terms.
  const TERM = /<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?/g;
  function unescape(text) {
    return text.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, c) => {
      if (c[0] === "u" || c[0] === "U") return String.fromCodePoint(parseInt(c.slice(1), 16));
      return { t: "\t", n: "\n", r: "\r", b: "\b", f: "\f" }[c] ?? c;
    });
  }
  function parseNTriples(text) {
    const rows = [];
    for (const line of text.split("\n")) {
      if (!line.trim() || line.startsWith("#")) continue;
      const terms = [];
      for (const m of line.matchAll(TERM)) {
        if (m[1] !== undefined) terms.push({ type: "uri", value: m[1] });
        else if (m[2] !== undefined) terms.push({ type: "bnode", value: m[2] });
        else {
          const t = { type: "literal", value: unescape(m[3]) };
          if (m[4]) t["xml:lang"] = m[4];
          if (m[5]) t.datatype = m[5];
          terms.push(t);
        }
      }
      if (terms.length >= 3) rows.push({ subject: terms[0], predicate: terms[1], object: terms[2] });
    }
    return rows;
  }

  function count(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  async function runQuery(event) {
    if (event) event.preventDefault();
    clearError();
    drawGutter();
    updateDownload();
    run.disabled = true;
    status.textContent = "Running…";
    table.hidden = true;
    const started = performance.now();
    try {
      const response = await fetch(config.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/sparql-results+json, application/n-triples;q=0.9",
        },
        body: new URLSearchParams({ query: editor.value }).toString(),
      });
      const type = response.headers.get("content-type") || "";
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      if (!response.ok) {
        const problem = type.includes("json") ? await response.json() : { detail: await response.text() };
        showError(problem);
        status.textContent = "The query failed (HTTP " + response.status + ").";
        return;
      }
      let shown;
      if (type.startsWith("application/n-triples")) {
        const rows = parseNTriples(await response.text());
        drawTable(["subject", "predicate", "object"], rows);
        shown = count(rows.length, "triple");
        if (TABLE_FORMATS.includes(format.value)) format.value = "ttl";
      } else {
        const data = await response.json();
        if (typeof data.boolean === "boolean") {
          drawTable(["answer"], [{ answer: { type: "literal", value: String(data.boolean) } }]);
          shown = "answer: " + data.boolean;
        } else {
          drawTable(data.head.vars, data.results.bindings);
          shown = count(data.results.bindings.length, "row");
        }
        if (!TABLE_FORMATS.includes(format.value)) format.value = "json";
      }
      updateDownload();
      const cut = response.headers.get("Cpgraph-Truncated") === "true" ? " (cut at the row limit)" : "";
      const capped = table.tBodies[0] && table.tBodies[0].rows.length === MAX_ROWS ? "; the first " + MAX_ROWS + " are shown, download the rest" : "";
      status.textContent = shown + cut + " in " + seconds + " s" + capped + ".";
    } catch (error) {
      status.textContent = "The endpoint could not be reached: " + error;
    } finally {
      run.disabled = false;
    }
  }

  editor.addEventListener("input", () => {
    if (errorLine !== null) clearError();
    drawGutter();
    updateDownload();
  });
  editor.addEventListener("scroll", () => {
    gutter.scrollTop = editor.scrollTop;
  });
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) runQuery(event);
  });
  format.addEventListener("change", updateDownload);
  form.addEventListener("submit", runQuery);
  drawGutter();
  updateDownload();
  if (new URLSearchParams(location.search).has("run")) runQuery(null);
})();
