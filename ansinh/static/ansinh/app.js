// Small helpers; no inline script anywhere (CSP).
(function () {
  "use strict";

  // Tables become cards on a phone (app.css, below 600 px): each cell carries the text of its
  // column's header as data-label, which the card shows before the value. Header cells that
  // span several columns are counted as that many; a table marked data-cards="off" is left
  // as it is.
  function labelTable(table) {
    if (table.dataset.cards === "off" || table.classList.contains("rt")) return;
    var head = table.tHead && table.tHead.rows.length ? table.tHead.rows[table.tHead.rows.length - 1] : null;
    if (!head) return;
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (th) {
      var text = th.textContent.trim();
      for (var i = 0; i < (th.colSpan || 1); i++) labels.push(text);
    });
    var rows = [];
    Array.prototype.forEach.call(table.tBodies, function (b) { rows = rows.concat(Array.prototype.slice.call(b.rows)); });
    if (table.tFoot) rows = rows.concat(Array.prototype.slice.call(table.tFoot.rows));
    rows.forEach(function (tr) {
      var col = 0;
      Array.prototype.forEach.call(tr.cells, function (cell) {
        var span = cell.colSpan || 1;
        if (!cell.hasAttribute("data-label") && span === 1 && labels[col]) cell.setAttribute("data-label", labels[col]);
        if (span > 1) cell.classList.add("span");
        col += span;
      });
    });
    table.classList.add("rt");
  }

  function labelAll(root) {
    (root || document).querySelectorAll("main table").forEach(labelTable);
  }

  function menu() {
    var header = document.querySelector("header.top");
    var button = header && header.querySelector("button.menu");
    if (!button) return;
    button.addEventListener("click", function () {
      var open = header.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-autosubmit] select, form[data-autosubmit] input[type=date]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    document.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("click", function (ev) { if (!window.confirm(el.dataset.confirm)) ev.preventDefault(); });
    });
    labelAll(document);
    menu();
  });
  // tables that htmx swaps in later (job progress, partial pages)
  document.addEventListener("htmx:afterSwap", function (ev) { labelAll(ev.target); });
})();
