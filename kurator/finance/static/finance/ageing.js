// The ageing chart of the receivables page: the balance in each bucket of days overdue; a click on a bar opens
// the invoices of that bucket. The numbers come from the page (json_script), the same ones the table shows.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("ageing-chart");
    var source = document.getElementById("ageing-data");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var keys = (canvas.dataset.buckets || "").split(",");
    var colours = ["rgba(47, 179, 68, 0.75)", "rgba(247, 103, 7, 0.55)", "rgba(247, 103, 7, 0.8)",
      "rgba(214, 57, 57, 0.7)", "rgba(214, 57, 57, 0.95)"];
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: canvas.dataset.label, data: data.values.map(Number), backgroundColor: colours }]
      },
      options: {
        responsive: true,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true } },
        onClick: function (_event, elements) {
          if (!elements.length || !canvas.dataset.link) return;
          var key = keys[elements[0].index];
          if (key) window.location.href = canvas.dataset.link + "?bucket=" + encodeURIComponent(key);
        }
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
