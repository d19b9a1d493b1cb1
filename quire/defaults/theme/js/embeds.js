// Click-to-load embeds (see templates/partials/embed.html): nothing third-party loads
// until the reader clicks; without JavaScript the link simply opens the original.
(function () {
  if (window.quireEmbeds) return;
  window.quireEmbeds = true;
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-embed-src]");
    if (!link) return;
    event.preventDefault();
    var frame = document.createElement("iframe");
    frame.src = link.getAttribute("data-embed-src");
    frame.title = link.getAttribute("data-embed-title") || "";
    frame.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture";
    frame.setAttribute("allowfullscreen", "");
    frame.className = "embed__frame";
    link.replaceWith(frame);
  });
})();
