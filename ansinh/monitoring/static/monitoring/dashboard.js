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
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: { y: { beginAtZero: false, ticks: { callback: function (v) { return fmt.format(v); } } } },
      plugins: { tooltip: { callbacks: { label: function (c) {
        return c.dataset.label + ": " + (c.parsed.y === null ? "—" : fmt.format(c.parsed.y));
      } } } }
    }
  });
});
