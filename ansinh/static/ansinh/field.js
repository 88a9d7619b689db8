// Field capture on a phone: a plan item fills the activity form; the QR code on the back of a
// chip ID card (CCCD) fills the attendee form, from the camera or from a photo. No inline
// script (CSP); the page's words come from data-msg-* attributes (translated by Django).
(function () {
  "use strict";

  var MAX_PHOTO = 10 * 1024 * 1024;

  // ---- activity form: pick a plan item by commune, month and channel
  function planItems() {
    var item = document.getElementById("id_plan_item");
    var unit = document.getElementById("id_unit");
    if (!item || !unit) return;
    function set(id, value) {
      var el = document.getElementById(id);
      if (el && value !== undefined && value !== null && value !== "") el.value = value;
    }
    function filter() {
      // only the items of the commune chosen (all when the commune has none)
      var any = false;
      Array.prototype.forEach.call(item.options, function (o) {
        if (o.dataset.unit) any = any || o.dataset.unit === unit.value;
      });
      Array.prototype.forEach.call(item.options, function (o) {
        o.hidden = any && !!o.dataset.unit && o.dataset.unit !== unit.value;
      });
    }
    item.addEventListener("change", function () {
      var o = item.options[item.selectedIndex];
      if (!o || !o.dataset.unit) return;
      set("id_unit", o.dataset.unit);
      set("id_channel", o.dataset.channel);
      set("id_group", o.dataset.group);
      set("id_lead_org", o.dataset.lead);
      var reach = document.getElementById("id_planned_reach");
      if (reach && !reach.value) set("id_planned_reach", o.dataset.reach);
      filter();
    });
    unit.addEventListener("change", filter);
    filter();
  }

  // ---- the CCCD QR code: ID|old ID|Full name|DDMMYYYY|Nam/Nữ|address|DDMMYYYY issued
  function parseCard(text) {
    var p = String(text || "").trim().split("|");
    if (p.length < 6 || !/^\d{12}$/.test(p[0].trim())) return null;
    var b = p[3].trim();
    var birth = /^\d{8}$/.test(b) ? b.slice(4) + "-" + b.slice(2, 4) + "-" + b.slice(0, 2) : "";
    var s = p[4].trim().toLowerCase();
    return {
      person_id: p[0].trim(),
      full_name: p[2].replace(/\s+/g, " ").trim(),
      birth_date: birth,
      sex: s === "nam" ? "male" : (s === "nữ" || s === "nu") ? "female" : "",
      address: p[5].replace(/\s+/g, " ").trim()
    };
  }
  window.ansinhParseCard = parseCard;

  // the image of a File at half its size, as a PNG File
  function shrink(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var c = document.createElement("canvas");
        c.width = Math.max(1, Math.round(img.width / 2));
        c.height = Math.max(1, Math.round(img.height / 2));
        var ctx = c.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, c.width, c.height);
        ctx.drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        c.toBlob(function (blob) {
          if (!blob) { reject("no blob"); return; }
          resolve(new File([blob], "half.png", { type: "image/png" }));
        }, "image/png");
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject("bad image"); };
      img.src = url;
    });
  }

  function qr() {
    var box = document.getElementById("qr");
    var form = document.getElementById("attendee-add");
    if (!box || !form) return;
    var status = document.getElementById("qr-status");
    var fileInput = document.getElementById("qr-file");
    var camButton = document.getElementById("qr-camera");
    var stopButton = document.getElementById("qr-stop");
    var reader = null;
    function say(key, bad) {
      status.textContent = box.dataset[key] || key;
      status.className = bad ? "error" : "ok";
    }
    function fill(text) {
      var card = parseCard(text);
      if (!card) { say("msgNotcard", true); return false; }
      ["person_id", "full_name", "birth_date", "sex", "address"].forEach(function (k) {
        var el = form.querySelector("[name=" + k + "]");
        if (el) el.value = card[k];
      });
      var src = form.querySelector("[name=source]");
      if (src) src.value = "qr";
      say("msgOk", false);
      var consent = form.querySelector("[name=consent]");
      if (consent) consent.focus();
      return true;
    }
    window.ansinhFillCard = fill;
    function lib() {
      if (!window.Html5Qrcode) return null;
      if (!reader) reader = new window.Html5Qrcode("qr-reader", { verbose: false });
      return reader;
    }
    fileInput.addEventListener("change", function () {
      var f = fileInput.files && fileInput.files[0];
      if (!f) return;
      if (f.size > MAX_PHOTO) { say("msgBig", true); fileInput.value = ""; return; }
      var r = lib();
      if (!r) { say("msgBad", true); return; }
      // a photo is tried as it is, then at half and a quarter of its size: the decoder's
      // binarizer misses codes whose modules are many pixels wide
      function attempt(file, left) {
        return r.scanFile(file, false).catch(function (err) {
          if (!left) throw err;
          return shrink(file).then(function (smaller) { return attempt(smaller, left - 1); });
        });
      }
      attempt(f, 2).then(function (text) { fill(text); }, function () { say("msgBad", true); })
        .then(function () { fileInput.value = ""; });
    });
    function stop() {
      stopButton.hidden = true;
      camButton.hidden = false;
      if (reader && reader.isScanning) return reader.stop().catch(function () {});
      return Promise.resolve();
    }
    stopButton.addEventListener("click", stop);
    camButton.addEventListener("click", function () {
      var r = lib();
      if (!r || !navigator.mediaDevices) { say("msgNocam", true); return; }
      say("msgScanning", false);
      camButton.hidden = true;
      stopButton.hidden = false;
      r.start({ facingMode: "environment" }, {
        fps: 8,
        qrbox: function (w, h) { var side = Math.floor(Math.min(w, h) * 0.85); return { width: side, height: side }; }
      },
        function (text) { if (parseCard(text)) { stop(); fill(text); } },
        function () {}
      ).catch(function () { stop(); say("msgNocam", true); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    planItems();
    qr();
  });
})();
