// Worklists: the "tick all" box of the list ticks the rows of the page.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-check-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var cls = box.getAttribute("data-check-all");
        document.querySelectorAll("input." + cls).forEach(function (c) {
          c.checked = box.checked;
        });
      });
    });
  });
})();
