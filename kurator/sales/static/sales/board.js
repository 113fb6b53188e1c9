// The deal board (S3): drag a card to another column to move the deal. Everything also works without this
// script: each card has a "Move to…" link to the move page, which posts the same request.
(function () {
  "use strict";

  function texts() {
    var el = document.getElementById("board-texts");
    return el ? el.dataset : {};
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function feedback() { return document.getElementById("move-feedback"); }

  function clearFeedback() {
    var box = feedback();
    while (box && box.firstChild) box.removeChild(box.firstChild);
  }

  function alertBox(kind, testid) {
    clearFeedback();
    var box = el("div", { "class": "alert alert-" + kind + " alert-dismissible", role: "alert", "data-testid": testid });
    var close = el("button", { type: "button", "class": "btn-close", "aria-label": texts().close || "Close" });
    close.addEventListener("click", clearFeedback);
    box.appendChild(close);
    feedback().appendChild(box);
    return box;
  }

  function putBack(evt) {
    var from = evt.from;
    from.insertBefore(evt.item, from.children[evt.oldIndex] || null);
  }

  function csrf(card) {
    // One token for the whole board (the cards carry no forms of their own).
    var board = card.closest("[data-board]") || document;
    var input = board.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function showUnmet(card, stageId, data) {
    var t = texts();
    var box = alertBox("warning", "move-refused");
    box.appendChild(el("div", { "class": "fw-medium mb-1" }, (t.unmetTitle || "").replace("__STAGE__", data.stage || "")));
    var list = el("ul", { "class": "mb-2", "data-testid": "unmet-standards" });
    (data.unmet || []).forEach(function (item) { list.appendChild(el("li", { "data-code": item.code }, item.message)); });
    box.appendChild(list);
    if (data.can_override) {
      var form = el("form", { method: "post", action: card.dataset.moveUrl, "class": "mt-2", "data-testid": "override-form" });
      [["csrfmiddlewaretoken", csrf(card)], ["stage", stageId], ["version", card.dataset.version],
       ["next", window.location.pathname + window.location.search]].forEach(function (pair) {
        form.appendChild(el("input", { type: "hidden", name: pair[0], value: pair[1] }));
      });
      var id = "override-reason-" + card.dataset.dealId;
      form.appendChild(el("label", { "class": "form-label required", "for": id }, t.overrideLabel || ""));
      form.appendChild(el("textarea", { "class": "form-control mb-2", name: "override_reason", id: id, rows: "2", required: "required" }));
      form.appendChild(el("button", { type: "submit", "class": "btn btn-warning" }, t.overrideSubmit || ""));
      box.appendChild(form);
    }
  }

  function showConflict() {
    var t = texts();
    var box = alertBox("danger", "move-conflict");
    box.appendChild(el("div", { "class": "mb-2" }, t.conflict || ""));
    var reload = el("button", { type: "button", "class": "btn btn-sm btn-danger" }, t.reload || "Reload");
    reload.addEventListener("click", function () { window.location.reload(); });
    box.appendChild(reload);
  }

  function refreshBoard() {
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("board");
        var board = document.getElementById("board");
        if (fresh && board) {
          board.replaceWith(fresh);
          init();
        }
      });
  }

  function move(evt) {
    if (evt.from === evt.to) return;
    var card = evt.item;
    var column = evt.to.closest("[data-stage-id]");
    var stageId = evt.to.dataset.stageId;
    if (column && column.dataset.stageKind === "lost") {
      // A lost deal needs a reason: the move page asks for it.
      putBack(evt);
      var here = window.location.pathname + window.location.search;
      window.location.href = card.dataset.moveUrl + "?stage=" + encodeURIComponent(stageId) + "&next=" + encodeURIComponent(here);
      return;
    }
    var body = new FormData();
    body.append("stage", stageId);
    body.append("version", card.dataset.version);
    fetch(card.dataset.moveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf(card) }
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; },
                                   function () { return { status: response.status, data: {} }; });
    }).then(function (result) {
      if (result.status === 200) {
        clearFeedback();
        refreshBoard();
      } else if (result.status === 400 && result.data.unmet) {
        putBack(evt);
        showUnmet(card, stageId, result.data);
      } else if (result.status === 409) {
        putBack(evt);
        showConflict();
      } else {
        putBack(evt);
        var box = alertBox("danger", "move-error");
        box.appendChild(el("div", {}, texts().error || ""));
      }
    }, function () {
      putBack(evt);
      var box = alertBox("danger", "move-error");
      box.appendChild(el("div", {}, texts().error || ""));
    });
  }

  function init() {
    if (typeof window.Sortable === "undefined") return;
    document.querySelectorAll("[data-board] [data-cards]").forEach(function (list) {
      window.Sortable.create(list, {
        group: "deals",
        draggable: ".is-movable",
        filter: "select, button, input, label, a",
        preventOnFilter: false,
        animation: 150,
        onEnd: move
      });
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.hasAttribute && target.hasAttribute("data-autosubmit") && target.form) target.form.submit();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
