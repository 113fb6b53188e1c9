// The solvency chart: the client's ratios by year. The numbers come from the page (json_script), the same
// ones the table shows.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("solvency-chart");
    var source = document.getElementById("solvency-data");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: canvas.dataset.labelLiquidity, data: data.liquidity, borderColor: "rgba(32, 107, 196, 0.9)", yAxisID: "ratio", spanGaps: true },
          { label: canvas.dataset.labelEquity, data: data.equity_ratio, borderColor: "rgba(47, 179, 68, 0.9)", yAxisID: "percent", spanGaps: true },
          { label: canvas.dataset.labelMargin, data: data.net_margin, borderColor: "rgba(247, 103, 7, 0.9)", yAxisID: "percent", spanGaps: true }
        ]
      },
      options: {
        responsive: true,
        scales: {
          ratio: { type: "linear", position: "left", beginAtZero: true },
          percent: { type: "linear", position: "right", grid: { drawOnChartArea: false } }
        }
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
