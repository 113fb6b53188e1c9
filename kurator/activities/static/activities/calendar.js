// The calendar feed page: the "Copy" button puts the feed address on the clipboard.
document.querySelectorAll("[data-copy-target]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copyTarget);
    if (!field) { return; }
    field.select();
    var done = function () {
      var label = button.dataset.copiedText;
      if (label) { button.setAttribute("title", label); button.classList.add("btn-success"); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
});
