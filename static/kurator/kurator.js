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

  // htmx restores a page from a snapshot of its HTML, which keeps the table of an earlier search but not what
  // was typed in the fields (a typed value is not an attribute). The address is the truth: fill the fields
  // of filter forms from it, so the search box and filters always describe the rows shown.
  function fillFromAddress(form) {
    var params = new URLSearchParams(window.location.search);
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name) return;
      var values = params.getAll(field.name);
      if (field.type === "hidden") {
        if (values.length) field.value = values[0];  // sort and page size: absent means "as it was"
      } else if (field.type === "checkbox" || field.type === "radio") {
        field.checked = values.indexOf(field.value) !== -1;
      } else if (field.tagName === "SELECT") {
        field.value = values.length ? values[0] : "";
        if (field.selectedIndex === -1) field.value = "";
      } else if (field.tagName === "INPUT" || field.tagName === "TEXTAREA") {
        field.value = values.length ? values[0] : "";
      }
    });
    syncMyClients(form);
  }

  // "My clients" is a link (it works without JavaScript); here it switches the curator filter in place.
  function syncMyClients(form) {
    var link = form.querySelector("[data-my-clients]");
    var select = form.querySelector("select[name=curator]");
    if (!link || !select) return;
    var on = select.value === link.getAttribute("data-my-clients");
    link.classList.toggle("active", on);
    link.setAttribute("aria-pressed", on ? "true" : "false");
  }

  document.addEventListener("htmx:historyRestore", function () {
    document.querySelectorAll("form[data-url-state]").forEach(fillFromAddress);
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("form [data-my-clients]");
    if (!link || !window.htmx) return;
    var form = link.closest("form");
    var select = form.querySelector("select[name=curator]");
    if (!select) return;
    event.preventDefault();
    var me = link.getAttribute("data-my-clients");
    select.value = select.value === me ? "" : me;
    syncMyClients(form);
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-url-state]");
    if (form && event.target.name === "curator") syncMyClients(form);
    // A match picked in a picker writes its name into the box, which is what the server checks it against.
    var picker = event.target.hasAttribute && event.target.hasAttribute("data-picker-label") &&
      event.target.closest("[data-picker-for]");
    if (picker) {
      var box = document.getElementById(picker.getAttribute("data-picker-for"));
      if (box) box.value = event.target.getAttribute("data-picker-label");
    }
  });
})();
