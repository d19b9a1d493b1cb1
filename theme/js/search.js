// quire search: loads /search/index.json on first use and ranks posts in the browser.
// No service, no dependencies; results are built with textContent (never innerHTML).
(function () {
  "use strict";
  var root = document.getElementById("search-results");
  var form = document.querySelector("form[data-search-index]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var indexUrl = form.getAttribute("data-search-index");
  var loading = null;

  function load() {
    if (!loading) {
      loading = fetch(indexUrl).then(function (r) {
        if (!r.ok) throw new Error("search index: HTTP " + r.status);
        return r.json();
      }).then(function (data) {
        return data.docs.map(function (d) {
          d.titleWords = words(d.t);
          d.tagWords = words(d.g.join(" ") + " " + d.c);
          d.summaryWords = words(d.s);
          return d;
        });
      });
    }
    return loading;
  }

  function words(text) {
    return (text || "").toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  }

  function fieldScore(list, token, exact, prefix) {
    var best = 0;
    for (var i = 0; i < list.length; i++) {
      if (list[i] === token) return exact;
      if (list[i].indexOf(token) === 0) best = Math.max(best, prefix);
    }
    return best;
  }

  function termScore(terms, token) {
    for (var i = 0; i < terms.length; i++) {
      if (terms[i] === token) return 2 - i / terms.length;
      if (terms[i].indexOf(token) === 0) return 1 - i / terms.length;
    }
    return 0;
  }

  function rank(docs, query) {
    var tokens = words(query);
    if (!tokens.length) return [];
    var hits = [];
    docs.forEach(function (d) {
      var total = 0;
      for (var i = 0; i < tokens.length; i++) {
        var t = tokens[i];
        var s = fieldScore(d.titleWords, t, 10, 6) + fieldScore(d.tagWords, t, 6, 3) +
          fieldScore(d.summaryWords, t, 3, 2) + termScore(d.k, t);
        if (s === 0) return; // every word of the query must match somewhere
        total += s;
      }
      hits.push({ doc: d, score: total });
    });
    hits.sort(function (a, b) {
      return b.score - a.score || (b.doc.d > a.doc.d ? 1 : b.doc.d < a.doc.d ? -1 : 0);
    });
    return hits.slice(0, 50);
  }

  function show(query, hits) {
    if (!root) return;
    root.textContent = "";
    var status = document.getElementById("search-status");
    if (status) {
      status.textContent = query ? hits.length + (hits.length === 1 ? " result" : " results") + " for \u201c" + query + "\u201d" : "";
    }
    hits.forEach(function (hit) {
      var li = document.createElement("li");
      li.className = "search-result";
      var a = document.createElement("a");
      a.href = form.getAttribute("data-base").replace(/\/$/, "") + hit.doc.u;
      a.textContent = hit.doc.t;
      li.appendChild(a);
      if (hit.doc.d) {
        var time = document.createElement("time");
        time.dateTime = hit.doc.d;
        time.textContent = " " + hit.doc.d;
        li.appendChild(time);
      }
      var p = document.createElement("p");
      p.textContent = hit.doc.s;
      li.appendChild(p);
      root.appendChild(li);
    });
  }

  function run() {
    var query = input.value.trim();
    if (!root) return;
    load().then(function (docs) { show(query, rank(docs, query)); });
  }

  if (root) {
    var initial = new URLSearchParams(window.location.search).get("q");
    if (initial) { input.value = initial; run(); }
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 120);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  } else {
    input.addEventListener("focus", load, { once: true });
  }
})();
