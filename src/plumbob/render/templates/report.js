/* plumbob HTML report: the findings table. Reads the JSON block #plumbob-data, filters it by
   severity, category, namespace, cluster, check and text, and draws one page at a time; a row
   expands to its evidence, why and fix. DOM built with textContent only: no finding text is
   ever parsed as HTML. No network. */
(function () {
  "use strict";
  var PAGE = 50;
  var data = JSON.parse(document.getElementById("plumbob-data").textContent);
  var rows = data.rows;
  var SEV = 0, CHECK = 1, CLUSTER = 2, NS = 3, KIND = 4, NAME = 5, PATH = 6, FILE = 7,
      MSG = 8, EVIDENCE = 9, FP = 10, NEW = 11;
  var form = document.getElementById("filters");
  var tbody = document.querySelector("#findings-table tbody");
  var status = document.getElementById("status");
  var pageLabel = document.getElementById("page");
  var state = { page: 0, matches: [] };
  var opened = {};

  function category(row) { return data.rules[data.checks[row[CHECK]]].category; }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fill(select, counts, label) {
    var keys = Object.keys(counts);
    if (select.name === "severity") {
      keys.sort(function (a, b) { return data.severities.indexOf(a) - data.severities.indexOf(b); });
    } else {
      keys.sort();
    }
    keys.forEach(function (key) {
      var option = el("option", null, (label ? label(key) : key) + " (" + counts[key] + ")");
      option.value = key;
      select.appendChild(option);
    });
  }

  function tally(get) {
    var counts = {};
    for (var i = 0; i < rows.length; i++) {
      var key = get(rows[i]);
      counts[key] = (counts[key] || 0) + 1;
    }
    return counts;
  }

  fill(form.elements.severity, tally(function (r) { return data.severities[r[SEV]]; }));
  fill(form.elements.category, tally(category));
  fill(form.elements.namespace, tally(function (r) { return r[NS] || "(cluster-scoped)"; }));
  fill(form.elements.cluster, tally(function (r) { return data.clusters[r[CLUSTER]]; }));
  fill(form.elements.check, tally(function (r) { return data.checks[r[CHECK]]; }));

  function filtered() {
    var f = form.elements;
    var sev = f.severity.value, cat = f.category.value, ns = f.namespace.value,
        cl = f.cluster.value, ck = f.check.value, text = f.text.value.trim().toLowerCase();
    var out = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (sev && data.severities[r[SEV]] !== sev) continue;
      if (ck && data.checks[r[CHECK]] !== ck) continue;
      if (cl && data.clusters[r[CLUSTER]] !== cl) continue;
      if (ns && (r[NS] || "(cluster-scoped)") !== ns) continue;
      if (cat && category(r) !== cat) continue;
      if (text) {
        var hay = (r[NAME] + " " + r[NS] + " " + r[KIND] + " " + r[MSG] + " " + r[FILE] + " " +
                   r[PATH] + " " + data.checks[r[CHECK]]).toLowerCase();
        if (hay.indexOf(text) < 0) continue;
      }
      out.push(i);
    }
    return out;
  }

  function where(r) {
    var box = el("div", "where");
    box.appendChild(el("span", "obj", r[KIND] + " " + (r[NS] ? r[NS] + "/" : "") + r[NAME]));
    if (r[PATH]) box.appendChild(el("code", "path", r[PATH]));
    if (r[FILE]) box.appendChild(el("span", "file", r[FILE]));
    if (data.clusters.length > 1) box.appendChild(el("span", "cluster", data.clusters[r[CLUSTER]]));
    return box;
  }

  function detail(r) {
    var rule = data.rules[data.checks[r[CHECK]]];
    var td = el("td");
    td.colSpan = 5;
    var grid = el("div", "detail-grid");
    var left = el("div");
    left.appendChild(el("h4", null, "Evidence"));
    var evidence = { cluster: data.clusters[r[CLUSTER]], fingerprint: r[FP] };
    if (r[NEW] !== null) evidence.since = r[NEW] === 1 ? "new" : "existing";
    if (r[EVIDENCE]) {
      Object.keys(r[EVIDENCE]).forEach(function (k) { evidence[k] = r[EVIDENCE][k]; });
    }
    left.appendChild(el("pre", "evidence", JSON.stringify(evidence, null, 2)));
    var right = el("div");
    right.appendChild(el("h4", null, rule.title));
    if (rule.why) {
      right.appendChild(el("h5", null, "Why it matters"));
      right.appendChild(el("p", "prose", rule.why));
    }
    if (rule.fix) {
      right.appendChild(el("h5", null, "How to fix"));
      right.appendChild(el("pre", "fix", rule.fix));
    }
    if (rule.refs && rule.refs.length) {
      right.appendChild(el("h5", null, "References"));
      var ul = el("ul", "refs");
      rule.refs.forEach(function (ref) { ul.appendChild(el("li", null, ref)); });
      right.appendChild(ul);
    }
    right.appendChild(el("p", "dim", "plumbob explain " + data.checks[r[CHECK]]));
    grid.appendChild(left);
    grid.appendChild(right);
    td.appendChild(grid);
    var tr = el("tr", "detail");
    tr.appendChild(td);
    return tr;
  }

  function toggle(index, tr, button) {
    var next = tr.nextSibling;
    if (next && next.className === "detail") {
      tbody.removeChild(next);
      delete opened[index];
      button.setAttribute("aria-expanded", "false");
      button.textContent = "▸";
      return;
    }
    tbody.insertBefore(detail(rows[index]), next);
    opened[index] = true;
    button.setAttribute("aria-expanded", "true");
    button.textContent = "▾";
  }

  function draw() {
    var matches = state.matches;
    var pages = Math.max(1, Math.ceil(matches.length / PAGE));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    var start = state.page * PAGE;
    var shown = matches.slice(start, start + PAGE);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (index) {
      var r = rows[index];
      var sev = data.severities[r[SEV]];
      var tr = el("tr", "finding sev-" + sev);
      tr.dataset.index = String(index);
      var first = el("td");
      var button = el("button", "expand", "▸");
      button.type = "button";
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-label", "show evidence, why and fix");
      first.appendChild(button);
      tr.appendChild(first);
      var badge = el("td");
      badge.appendChild(el("span", "badge " + sev, sev));
      tr.appendChild(badge);
      var check = el("td", "check", data.checks[r[CHECK]]);
      if (r[NEW] === 1) check.appendChild(el("span", "badge new", "new"));
      tr.appendChild(check);
      var w = el("td");
      w.appendChild(where(r));
      tr.appendChild(w);
      tr.appendChild(el("td", "message", r[MSG]));
      fragment.appendChild(tr);
      if (opened[index]) fragment.appendChild(detail(r));
    });
    tbody.textContent = "";
    tbody.appendChild(fragment);
    if (!matches.length) {
      var empty = el("tr");
      var td = el("td", "dim", rows.length ? "No finding matches these filters." : "No findings.");
      td.colSpan = 5;
      empty.appendChild(td);
      tbody.appendChild(empty);
    }
    var of = matches.length === rows.length ? "" : " (filtered from " + rows.length.toLocaleString() + ")";
    status.textContent = matches.length
      ? "Showing " + (start + 1).toLocaleString() + "–" + (start + shown.length).toLocaleString() +
        " of " + matches.length.toLocaleString() + " findings" + of
      : "0 findings" + of;
    pageLabel.textContent = "page " + (state.page + 1) + " of " + pages;
  }

  function refilter() {
    state.matches = filtered();
    state.page = 0;
    draw();
  }

  tbody.addEventListener("click", function (event) {
    var tr = event.target.closest("tr.finding");
    if (!tr || (event.target.tagName !== "BUTTON" && window.getSelection().toString())) return;
    toggle(Number(tr.dataset.index), tr, tr.querySelector("button.expand"));
  });
  form.addEventListener("change", refilter);
  var timer = null;
  form.elements.text.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refilter, 150);
  });
  form.addEventListener("reset", function () { setTimeout(refilter, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  document.getElementById("pager").addEventListener("click", function (event) {
    var which = event.target.dataset && event.target.dataset.page;
    if (!which) return;
    var pages = Math.max(1, Math.ceil(state.matches.length / PAGE));
    state.page = which === "first" ? 0 : which === "last" ? pages - 1
      : which === "next" ? state.page + 1 : state.page - 1;
    draw();
  });
  refilter();
})();
