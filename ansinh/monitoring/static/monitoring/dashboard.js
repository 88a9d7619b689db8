// Trend chart of the dashboard: data from the json_script element #kpi-chart-data (CSP: no
// inline script). Chart.js is vendored under static/vendor/chartjs/.
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("kpi-chart-data");
  var canvas = document.getElementById("kpi-chart");
  if (!el || !canvas || typeof Chart === "undefined") return;
  var data = JSON.parse(el.textContent);
  var lang = document.documentElement.lang || "vi";
  var fmt = new Intl.NumberFormat(lang === "en" ? "en-US" : "vi-VN");
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.label_participants, data: data.participants, borderColor: "#0b5cad",
          backgroundColor: "#0b5cad22", fill: true, tension: 0.2 },
        { label: data.label_target, data: data.target, borderColor: "#b3261e",
          borderDash: [6, 4], pointRadius: 0, fill: false, spanGaps: true }
      ].concat(data.forecast && data.forecast.length ? [
        // the forecast fan: the 80 % interval as a band (high filled down to low), the median
        { label: data.label_interval, data: data.high, borderColor: "transparent",
          backgroundColor: "#e0770033", pointRadius: 0, fill: "+1", spanGaps: true },
        { label: "", data: data.low, borderColor: "transparent", pointRadius: 0,
          fill: false, spanGaps: true },
        { label: data.label_forecast, data: data.forecast, borderColor: "#e07700",
          borderDash: [3, 3], pointRadius: 2, fill: false, spanGaps: true }
      ] : [])
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: { y: { beginAtZero: false, ticks: { callback: function (v) { return fmt.format(v); } } } },
      plugins: { legend: { labels: { filter: function (item) { return !!item.text; } } },
        tooltip: { filter: function (c) { return !!c.dataset.label; }, callbacks: { label: function (c) {
        return c.dataset.label + ": " + (c.parsed.y === null ? "—" : fmt.format(c.parsed.y));
      } } } }
    }
  });
});
