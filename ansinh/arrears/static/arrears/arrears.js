// Arrears by month-end: the amount overdue (bars, defined every month) and the ratio to the
// amount due since 1 January against the <= 2 % goal (line; none in January, when nothing of
// the year is due yet). Data from the json_script element.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("arrears-trend");
  var src = document.getElementById("arrears-trend-data");
  if (!canvas || !src || typeof window.Chart === "undefined") return;
  var data = JSON.parse(src.textContent);
  var lang = document.documentElement.lang || "vi";
  var locale = lang === "en" ? "en-US" : "vi-VN";
  var fmt = function (v) { return Number(v).toLocaleString(locale, { maximumFractionDigits: 2 }) + (lang === "en" ? "%" : " %"); };
  var money = function (v) { return Number(v).toLocaleString(locale, { maximumFractionDigits: 1 }); };
  new window.Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        { type: "line", label: data.label, data: data.values, yAxisID: "pct", borderColor: "#0b5cad", backgroundColor: "#0b5cad", tension: 0.2, spanGaps: false, order: 1 },
        { type: "line", label: data.goal_label, data: data.labels.map(function () { return data.goal; }), yAxisID: "pct", borderColor: "#b3261e", borderDash: [6, 4], pointRadius: 0, fill: false, order: 2 },
        { type: "bar", label: data.amount_label, data: data.amounts, yAxisID: "amount", backgroundColor: "#9aa5b133", borderColor: "#9aa5b1", borderWidth: 1, order: 3 }
      ]
    },
    options: {
      maintainAspectRatio: false,
      scales: {
        pct: { position: "left", beginAtZero: true, ticks: { callback: fmt } },
        amount: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { callback: money } }
      },
      plugins: { tooltip: { callbacks: { label: function (ctx) {
        return ctx.dataset.label + ": " + (ctx.dataset.yAxisID === "amount" ? money(ctx.parsed.y) : fmt(ctx.parsed.y));
      } } } }
    }
  });
});
