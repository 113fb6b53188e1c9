// Small behaviours declared in the templates with data- attributes, so that no page needs an inline
// <script> or an on* handler (the Content Security Policy allows scripts from Kurator's static files only).
(function () {
  "use strict";

  // <button data-confirm="Remove this rule?">: asks before the click goes on (a form is sent, a link opened).
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-confirm]");
    if (trigger && !window.confirm(trigger.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <a href="/" data-history-back>: goes back where the person came from (the address is the fallback).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-history-back]");
    if (link && window.history.length > 1 && document.referrer) {
      event.preventDefault();
      window.history.back();
    }
  });

  // <select data-autosubmit>: choosing an option sends its form (a <noscript> button does it without JS).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) field.form.submit();
  });

  // <textarea data-select-on-click>: a click selects all of it, ready to copy.
  document.addEventListener("click", function (event) {
    var field = event.target.closest && event.target.closest("[data-select-on-click]");
    if (field && typeof field.select === "function") field.select();
  });

  // <button data-copy-target="embed-snippet">: copies that field's text to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) return;
    var area = document.getElementById(button.getAttribute("data-copy-target"));
    if (!area) return;
    area.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(area.value);
    } else {
      document.execCommand("copy");
    }
  });

  // <div data-show-if="id_kind=city id_source=3,7">: shown only while one of the named fields has one of
  // the listed values (the server ignores what a hidden part holds anyway).
  function conditions(element) {
    return element.getAttribute("data-show-if").split(/\s+/).filter(Boolean).map(function (part) {
      var pair = part.split("=");
      return { field: pair[0], values: (pair[1] || "").split(",").filter(Boolean) };
    });
  }

  function updateShown() {
    document.querySelectorAll("[data-show-if]").forEach(function (element) {
      var shown = conditions(element).some(function (condition) {
        var field = document.getElementById(condition.field);
        return field && condition.values.indexOf(field.value) !== -1;
      });
      element.classList.toggle("d-none", !shown);
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.id && document.querySelector("[data-show-if]")) updateShown();
  });
  document.addEventListener("htmx:afterSettle", updateShown);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", updateShown);
  } else {
    updateShown();
  }
})();
