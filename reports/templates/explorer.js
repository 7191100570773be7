/* keyaudit findings explorer: sort, filter and page the findings embedded in #fx-data.
   Plain DOM, no libraries, no network. Text from the data is only ever set with textContent,
   and class names come from fixed lists, so hostile names stay text. Only one page of rows
   is in the DOM at a time, so a report with hundreds of thousands of findings stays light. */
(function () {
  "use strict";
  var source = document.getElementById("fx-data");
  var root = document.getElementById("fx");
  if (!source || !root) {
    return;
  }

  function say(message) {
    var count = document.getElementById("fx-count");
    root.hidden = false;
    count.textContent = message;
  }

  // Large reports carry the data deflated and base64-encoded; the browser inflates it.
  if (source.getAttribute("data-encoding") === "deflate-base64") {
    if (typeof DecompressionStream === "undefined") {
      say("This browser cannot unpack the findings (it lacks DecompressionStream): open the " +
        "report in a current browser, or use findings.csv beside this file.");
      return;
    }
    var binary = atob(source.textContent.trim());
    var bytes = new Uint8Array(binary.length);
    for (var b = 0; b < binary.length; b++) bytes[b] = binary.charCodeAt(b);
    var inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    say("Unpacking the findings\u2026");
    new Response(inflated).text().then(function (text) {
      start(JSON.parse(text));
    }, function (error) {
      say("The findings could not be unpacked (" + error + "): use findings.csv beside this file.");
    });
  } else {
    start(JSON.parse(source.textContent));
  }

  function start(data) {
    var rows = data.rows;
    var C = {};
    data.columns.forEach(function (name, i) {
      C[name] = i;
    });
    var KNOWN_SEVERITY = { critical: true, high: true, medium: true, low: true, info: true };
    var state = {
      search: "",
      severity: "",
      rule: "",
      account: "",
      status: "",
      sort: null,
      dir: 1,
      page: 0,
      size: 100
    };
    var matches = [];
    var haystacks = new Array(rows.length);
    var timer = null;

    function severityOf(r) {
      return data.severities[r[C.severity]];
    }

    function ruleOf(r) {
      return data.rules[r[C.rule]][0];
    }

    function accountOf(r) {
      return data.accounts[r[C.account]];
    }

    function byId(id) {
      return document.getElementById(id);
    }

    function fmt(n) {
      return n.toLocaleString("en-US");
    }

    function text(value) {
      return value === null || value === undefined || value === "" ? "\u2014" : String(value);
    }

    function haystack(i) {
      var h = haystacks[i];
      if (h === undefined) {
        var r = rows[i];
        var account = accountOf(r);
        h = [
          severityOf(r), ruleOf(r), account[0], account[1],
          r[C.user_name], r[C.key], r[C.reason], r[C.waiver_id], r[C.finding_id]
        ].join("\n").toLowerCase();
        haystacks[i] = h;
      }
      return h;
    }

    function sortValue(r, key) {
      var v;
      if (key === "severity") {
        return r[C.severity]; // the list of severities is in their order, worst first
      }
      if (key === "rule_id") {
        return ruleOf(r);
      }
      if (key === "account_id") {
        return accountOf(r)[0];
      }
      if (key === "age_days") {
        v = r[C.age_days];
        return v === null ? -1 : v;
      }
      if (key === "last_used") {
        v = r[C.last_used];
        return v === null ? "" : v === "never" ? "0" : v;
      }
      v = r[C[key]];
      return v === null || v === undefined ? "" : String(v).toLowerCase();
    }

    function filter() {
      var q = state.search.trim().toLowerCase();
      matches = [];
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        if (state.severity && severityOf(r) !== state.severity) continue;
        if (state.rule && ruleOf(r) !== state.rule) continue;
        if (state.account && accountOf(r)[0] !== state.account) continue;
        if (state.status === "open" && r[C.waived] === 1) continue;
        if (state.status === "waived" && r[C.waived] !== 1) continue;
        if (state.status === "new" && r[C.is_new] !== 1) continue;
        if (q && haystack(i).indexOf(q) < 0) continue;
        matches.push(i);
      }
      if (state.sort) {
        var key = state.sort;
        var dir = state.dir;
        var keyed = matches.map(function (i) {
          return [sortValue(rows[i], key), i];
        });
        keyed.sort(function (a, b) {
          if (a[0] < b[0]) return -dir;
          if (a[0] > b[0]) return dir;
          return a[1] - b[1]; // ties keep the report's order: severity, account, rule
        });
        matches = keyed.map(function (pair) {
          return pair[1];
        });
      }
    }

    function cell(value, className) {
      var td = document.createElement("td");
      if (className) td.className = className;
      td.textContent = text(value);
      return td;
    }

    function tag(className, value) {
      var span = document.createElement("span");
      span.className = className;
      span.textContent = value;
      return span;
    }

    function rowElement(r) {
      var tr = document.createElement("tr");
      tr.className = r[C.waived] === 1 ? "finding waived" : "finding";
      var severity = severityOf(r);
      var sev = document.createElement("td");
      sev.appendChild(tag("sev sev-" + (KNOWN_SEVERITY[severity] === true ? severity : "unknown"), severity));
      tr.appendChild(sev);
      tr.appendChild(cell(ruleOf(r), "mono rule-id"));
      var pair = accountOf(r);
      var account = cell(pair[0], "mono");
      if (pair[1]) account.appendChild(tag("account-name", pair[1]));
      tr.appendChild(account);
      tr.appendChild(cell(r[C.user_name]));
      tr.appendChild(cell(r[C.key], "mono key-id"));
      tr.appendChild(cell(r[C.age_days], "num"));
      tr.appendChild(cell(r[C.last_used]));
      var reason = cell(r[C.reason]);
      if (r[C.is_new] === 1) {
        reason.appendChild(document.createTextNode(" "));
        reason.appendChild(tag("new-tag", "new"));
      }
      if (r[C.waived] === 1) {
        reason.appendChild(document.createTextNode(" "));
        reason.appendChild(tag("waived-tag", r[C.waiver_id] ? "waived \u00b7 " + r[C.waiver_id] : "waived"));
      }
      tr.appendChild(reason);
      return tr;
    }

    function render() {
      var pages = Math.max(1, Math.ceil(matches.length / state.size));
      if (state.page >= pages) state.page = pages - 1;
      var start = state.page * state.size;
      var end = Math.min(matches.length, start + state.size);
      var fragment = document.createDocumentFragment();
      for (var n = start; n < end; n++) {
        fragment.appendChild(rowElement(rows[matches[n]]));
      }
      var body = byId("fx-body");
      body.textContent = "";
      body.appendChild(fragment);
      byId("fx-count").textContent = matches.length
        ? "Showing " + fmt(start + 1) + "\u2013" + fmt(end) + " of " + fmt(matches.length) +
          " matching findings (" + fmt(rows.length) + " in all)."
        : "No finding matches (" + fmt(rows.length) + " in all).";
      byId("fx-page").textContent = "Page " + fmt(state.page + 1) + " of " + fmt(pages);
      byId("fx-prev").disabled = state.page === 0;
      byId("fx-next").disabled = state.page >= pages - 1;
      var headers = root.querySelectorAll("th[data-sort]");
      for (var h = 0; h < headers.length; h++) {
        var th = headers[h];
        var sorted = th.getAttribute("data-sort") === state.sort;
        th.setAttribute("aria-sort", sorted ? (state.dir > 0 ? "ascending" : "descending") : "none");
      }
    }

    function update() {
      state.page = 0;
      filter();
      render();
    }

    function readControls() {
      state.search = byId("fx-search").value;
      state.severity = byId("fx-severity").value;
      state.rule = byId("fx-rule").value;
      state.account = byId("fx-account").value;
      state.status = byId("fx-status").value;
      update();
    }

    function choose(select, value) {
      var found = false;
      for (var i = 0; i < select.options.length; i++) {
        if (select.options[i].value === value) found = true;
      }
      if (!found) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        select.appendChild(option);
      }
      select.value = value;
    }

    byId("fx-form").addEventListener("submit", function (event) {
      event.preventDefault();
    });
    byId("fx-search").addEventListener("input", function () {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(readControls, 120);
    });
    ["fx-severity", "fx-rule", "fx-account", "fx-status"].forEach(function (id) {
      byId(id).addEventListener("change", readControls);
    });
    byId("fx-page-size").addEventListener("change", function () {
      state.size = parseInt(byId("fx-page-size").value, 10) || 100;
      state.page = 0;
      render();
    });
    byId("fx-prev").addEventListener("click", function () {
      state.page = Math.max(0, state.page - 1);
      render();
    });
    byId("fx-next").addEventListener("click", function () {
      state.page += 1;
      render();
    });
    byId("fx-reset").addEventListener("click", function () {
      byId("fx-form").reset();
      state.sort = null;
      state.dir = 1;
      readControls();
    });
    var headers = root.querySelectorAll("th[data-sort] button");
    for (var h = 0; h < headers.length; h++) {
      headers[h].addEventListener("click", function (event) {
        var key = event.currentTarget.parentNode.getAttribute("data-sort");
        if (state.sort === key) {
          state.dir = -state.dir;
        } else {
          state.sort = key;
          state.dir = key === "age_days" ? -1 : 1; // oldest keys first: what a reader looks for
        }
        update();
      });
    }
    // One listener for every "show in All findings" link of the account sections.
    document.addEventListener("click", function (event) {
      var link = event.target instanceof Element ? event.target.closest("a[data-fx-account]") : null;
      if (!link) return;
      byId("fx-form").reset();
      choose(byId("fx-account"), link.getAttribute("data-fx-account"));
      if (link.hasAttribute("data-fx-rule")) choose(byId("fx-rule"), link.getAttribute("data-fx-rule"));
      readControls();
    });

    root.hidden = false;
    update();
  }
})();
