// Arrears ratio by month-end against the <= 2 % goal. Data from the json_script element.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("arrears-trend");
  var src = document.getElementById("arrears-trend-data");
  if (!canvas || !src || typeof window.Chart === "undefined") return;
  var data = JSON.parse(src.textContent);
  var lang = document.documentElement.lang || "vi";
  var fmt = function (v) { return Number(v).toLocaleString(lang === "en" ? "en-US" : "vi-VN", { maximumFractionDigits: 2 }) + (lang === "en" ? "%" : " %"); };
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.label, data: data.values, borderColor: "#0b5cad", backgroundColor: "#0b5cad33", tension: 0.2, fill: true },
        { label: data.goal_label, data: data.labels.map(function () { return data.goal; }), borderColor: "#b3261e", borderDash: [6, 4], pointRadius: 0, fill: false }
      ]
    },
    options: {
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, ticks: { callback: fmt } } },
      plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + fmt(ctx.parsed.y); } } } }
    }
  });
});
