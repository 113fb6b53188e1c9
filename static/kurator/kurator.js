// Kurator's little JavaScript: everything works without it; this only tidies what htmx does.
(function () {
  "use strict";
  // Filter forms send every field; empty ones only clutter the address that htmx pushes to history.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    var names = [];
    if (typeof params.keys === "function") {
      params.forEach(function (_value, name) { names.push(name); });
    } else {
      names = Object.keys(params);
    }
    names.forEach(function (name) {
      var value = typeof params.getAll === "function" ? params.getAll(name) : [params[name]];
      if (value.every(function (v) { return v === "" || v === undefined || v === null; })) {
        if (typeof params.delete === "function") params.delete(name); else delete params[name];
      }
    });
  });
})();
