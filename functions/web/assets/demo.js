// The demo page's script: embeds the widget for ?site=, as a site would.
// A file of its own so that the page's CSP allows only scripts from us.
(function () {
  var site = new URLSearchParams(location.search).get("site");
  if (!site) { document.getElementById("missing").hidden = false; return; }
  var tag = '<script src="' + location.origin + '/widget.js" data-site="' + site + '" async><\/script>';
  document.getElementById("snippet").textContent = tag;
  var s = document.createElement("script");
  s.src = "/widget.js";
  s.async = true;
  s.setAttribute("data-site", site);
  document.body.appendChild(s);
})();
