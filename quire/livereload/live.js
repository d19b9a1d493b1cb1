// Injected into served HTML only (never into build output). Its settings come in the
// script element's data-config: {version, hash, events, hashPath, title, styles}.
(function () {
  var me = JSON.parse(document.currentScript.dataset.config);
  var box = null;
  function show(problems) {
    if (!box) {
      box = document.createElement("div");
      box.id = "quire-errors";
      box.setAttribute("role", "alert");
      box.style.cssText = me.styles.box;
    }
    box.textContent = "";
    var h = document.createElement("h2");
    h.style.cssText = me.styles.title;
    h.textContent = me.title;
    box.appendChild(h);
    problems.forEach(function (p) {
      var line = document.createElement("pre");
      line.style.cssText = me.styles.item;
      line.textContent = p.text;
      box.appendChild(line);
    });
    if (!box.parentNode) document.body.appendChild(box);
  }
  function hide() {
    var old = document.getElementById("quire-errors");
    if (old) old.remove();
    box = null;
  }
  function check(version) {
    fetch(me.hashPath + "?path=" + encodeURIComponent(location.pathname), {cache: "no-store"})
      .then(function (r) { return r.text(); })
      .then(function (h) {
        if (h !== me.hash) location.reload(); else me.version = version;
      });
  }
  var events = new EventSource(me.events);
  events.addEventListener("state", function (e) {
    var s = JSON.parse(e.data);
    document.documentElement.dataset.quireLive = String(s.version);
    if (s.problems.length) show(s.problems); else hide();
    if (s.version !== me.version && !s.problems.length) check(s.version);
  });
})();
