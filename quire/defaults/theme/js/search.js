// quire search: loads /search/index.json on first use and ranks posts in the browser.
// No service, no dependencies; results are built with textContent (never innerHTML).
// The search page has <ol id="search-results">; any other page's search box only warms
// the index on focus and submits to /search/?q=.
(function () {
  "use strict";
  var root = document.getElementById("search-results");
  var form = (root && document.querySelector("main form[data-search-index]")) ||
    document.querySelector("form[data-search-index]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("search-status");
  var indexUrl = form.getAttribute("data-search-index");
  var base = (form.getAttribute("data-base") || "/").replace(/\/$/, "");
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
      loading.catch(function () { loading = null; }); // try again next time
    }
    return loading;
  }

  // Lower case, accents dropped, split on anything but letters and digits (as quire/search.py).
  function words(text) {
    return (text || "").toLowerCase().normalize("NFD").replace(/\p{M}+/gu, "")
      .split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  }

  function fieldScore(list, token, exact, prefix) {
    var best = 0;
    for (var i = 0; i < list.length; i++) {
      if (list[i] === token) return exact;
      if (list[i].indexOf(token) === 0) best = prefix;
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

  function say(text) {
    if (status) status.textContent = text;
  }

  function show(query, hits) {
    root.textContent = "";
    say(query ? hits.length + (hits.length === 1 ? " result" : " results") +
      " for \u201c" + query + "\u201d" : "");
    hits.forEach(function (hit) {
      var li = document.createElement("li");
      li.className = "search-result";
      var a = document.createElement("a");
      a.className = "search-result__title";
      a.href = base + hit.doc.u;
      a.textContent = hit.doc.t;
      li.appendChild(a);
      var meta = [hit.doc.d, hit.doc.c].filter(Boolean);
      if (meta.length) {
        var small = document.createElement("p");
        small.className = "search-result__meta";
        if (hit.doc.d) {
          var time = document.createElement("time");
          time.dateTime = hit.doc.d;
          time.textContent = hit.doc.f || hit.doc.d;
          small.appendChild(time);
        }
        if (hit.doc.c) small.appendChild(document.createTextNode((hit.doc.d ? " \u00b7 " : "") + hit.doc.c));
        li.appendChild(small);
      }
      if (hit.doc.s) {
        var p = document.createElement("p");
        p.className = "search-result__summary";
        p.textContent = hit.doc.s;
        li.appendChild(p);
      }
      root.appendChild(li);
    });
  }

  var latest = 0;
  function run() {
    var query = input.value.trim();
    var ticket = ++latest;
    var url = new URL(window.location.href);
    if (query) url.searchParams.set("q", query); else url.searchParams.delete("q");
    window.history.replaceState(null, "", url); // a reload or a shared link shows the same results
    if (!query) { show("", []); return; }
    if (!root.childElementCount) say("Searching\u2026");
    load().then(function (docs) {
      if (ticket === latest) show(query, rank(docs, query));
    }, function () {
      say("Search is not available right now.");
    });
  }

  if (root) {
    var initial = new URLSearchParams(window.location.search).get("q");
    if (initial) { input.value = initial; run(); }
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 120);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); run(); });
  } else {
    input.addEventListener("focus", load, { once: true });
  }
})();
