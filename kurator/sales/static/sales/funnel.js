// The funnel chart: deals entering each stage and those that went on. The numbers come from the page
// (json_script), the same ones the table shows.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("funnel-chart");
    var source = document.getElementById("funnel-data");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: canvas.dataset.labelEntered, data: data.entered, backgroundColor: "rgba(32, 107, 196, 0.8)" },
          { label: canvas.dataset.labelPassed, data: data.passed, backgroundColor: "rgba(47, 179, 68, 0.7)" }
        ]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
