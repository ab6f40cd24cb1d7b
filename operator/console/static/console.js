// Live inbox: server-sent events say an appeal changed; the inbox body is
// fetched again with the same filters and swapped in.
(function () {
  "use strict";
  var box = document.getElementById("inbox");
  if (!box || !window.EventSource) return;
  var timer = null;
  function refresh() {
    timer = null;
    fetch(window.location.href, { headers: { "X-Partial": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        box.innerHTML = html;
        var live = document.getElementById("live");
        if (live) live.textContent = "Обновлено " + new Date().toLocaleTimeString("ru-RU");
        box.dataset.updated = String(Date.now());
      })
      .catch(function () {});
  }
  var es = new EventSource(box.dataset.live);
  es.addEventListener("appeal", function () {
    if (!timer) timer = setTimeout(refresh, 300);
  });
  es.onopen = function () { box.dataset.connected = "1"; };
})();
