// The field capture screen with no connection (/field/): an activity and its attendees are
// kept in IndexedDB (Dexie) and sent to /activities/sync/ when the connection returns, each
// with an id made here so that a sync sent twice writes once. The service worker (/sw.js)
// keeps this page and its scripts.
(function () {
  "use strict";
  var MAX_PHOTO = 10 * 1024 * 1024;
  var root, db, current = null, syncing = false;

  function msg(key) { return root.dataset[key] || key; }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (crypto.getRandomValues(new Uint8Array(1))[0] & 15);
      return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function formData(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      out[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    return out;
  }
  function normPhone(p) {
    p = String(p || "").replace(/[\s.\-()]/g, "");
    if (p.indexOf("+84") === 0) p = "0" + p.slice(3);
    else if (p.indexOf("84") === 0 && p.length === 11) p = "0" + p.slice(2);
    return p;
  }

  function refresh() {
    return db.activities.toArray().then(function (rows) {
      var pending = 0;
      var list = document.getElementById("queue");
      list.innerHTML = "";
      rows.sort(function (a, b) { return a.created < b.created ? 1 : -1; });
      rows.forEach(function (r) {
        if (r.state !== "synced") pending += 1 + r.attendees.filter(function (a) { return !a.synced; }).length;
        var li = document.createElement("li");
        li.className = "card queue-" + r.state;
        li.dataset.clientId = r.client_id;
        var state = r.state === "synced" ? msg("msgSynced") + (r.code ? " · " + r.code : "")
          : r.state === "conflict" ? msg("msgConflict") : msg("msgPending");
        li.textContent = vdate(r.date) + " · " + r.unit_name + " · " + r.attendees.length + " " + msg("msgPeople") + " · " + state;
        if (r.message) {
          var p = document.createElement("div");
          p.className = r.state === "conflict" ? "error" : "muted";
          p.textContent = r.message;
          li.appendChild(p);
        }
        list.appendChild(li);
      });
      document.getElementById("pending-count").textContent = root.dataset.pendingLabel + ": " + pending;
      var cur = document.getElementById("current-activity");
      cur.textContent = current ? "· " + current.unit_name + " · " + vdate(current.date) : "";
      show("start-activity", !current);
      show("save-results", !!current);
      show("new-activity", !!current);
    });
  }

  function show(id, on) { document.getElementById(id).style.display = on ? "" : "none"; }
  // dates as the page's language writes them (dd/mm/yyyy in Vietnamese)
  function vdate(iso) {
    var p = String(iso || "").split("-");
    if (p.length !== 3) return iso;
    return document.documentElement.lang === "en" ? iso : p[2] + "/" + p[1] + "/" + p[0];
  }
  // the activity being captured shown in its form (after a reload)
  function showCurrent() {
    if (!current) return;
    var form = document.getElementById("f-activity");
    ["unit", "date", "channel", "lead_org", "group", "reach", "leads", "registrations", "vssid_installs", "cost"].forEach(function (k) {
      if (form.elements[k] && current[k] !== undefined && current[k] !== null) form.elements[k].value = current[k];
    });
  }

  function net() {
    document.getElementById("net-status").textContent = navigator.onLine ? msg("msgOnline") : msg("msgOffline");
  }

  function startActivity(ev) {
    ev.preventDefault();
    var form = document.getElementById("f-activity");
    if (!form.reportValidity()) return;
    var d = formData(form);
    var unit = form.elements.unit;
    current = {
      client_id: uuid(), created: new Date().toISOString(), state: "pending",
      unit: d.unit, unit_name: unit.options[unit.selectedIndex].text, date: d.date,
      channel: d.channel, lead_org: d.lead_org, group: d.group,
      reach: d.reach, leads: d.leads, registrations: d.registrations,
      vssid_installs: d.vssid_installs, cost: d.cost, attendees: []
    };
    localStorage.setItem("ansinh-field-current", current.client_id);
    db.activities.put(current).then(refresh).then(sync);
  }

  function saveResults() {
    if (!current) return;
    var d = formData(document.getElementById("f-activity"));
    ["reach", "leads", "registrations", "vssid_installs", "cost"].forEach(function (k) { current[k] = d[k]; });
    if (current.state === "synced") current.state = "pending";
    db.activities.put(current).then(refresh);
  }

  function newActivity() {
    current = null;
    document.getElementById("f-activity").reset();
    localStorage.removeItem("ansinh-field-current");
    refresh();
  }

  function say(text, bad) {
    var p = document.getElementById("attendee-msg");
    p.textContent = text;
    p.className = bad ? "error" : "ok";
  }

  function addAttendee(ev) {
    ev.preventDefault();
    var form = document.getElementById("f-attendee");
    if (!current) { say(msg("msgNoActivity"), true); return; }
    var d = formData(form);
    d.person_id = String(d.person_id || "").trim();
    d.full_name = String(d.full_name || "").replace(/\s+/g, " ").trim();
    d.phone = normPhone(d.phone);
    if (!/^(\d{10}|\d{12})$/.test(d.person_id)) { say(msg("msgBadId"), true); return; }
    if (!d.full_name) { say(msg("msgBadName"), true); return; }
    if (d.phone && !/^0[35789]\d{8}$/.test(d.phone)) { say(msg("msgBadPhone"), true); return; }
    if (current.attendees.some(function (a) { return a.person_id === d.person_id; })) {
      say(msg("msgRepeat"), true); return;
    }
    current.attendees.push({
      client_id: uuid(), person_id: d.person_id, full_name: d.full_name, phone: d.phone,
      birth_date: d.birth_date || "", sex: d.sex || "", address: d.address || "",
      consent: !!d.consent, source: d.source || "typed", synced: false
    });
    if (current.state === "synced") current.state = "pending";
    db.activities.put(current).then(function () {
      say(msg("msgAdded") + " " + d.full_name + " (" + d.person_id + ")", false);
      form.reset();
      return refresh();
    }).then(sync);
  }

  function send(r) {
    var body = JSON.stringify(r);
    return fetch("/activities/sync/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: body
    }).then(function (res) {
      return res.json().then(function (data) { return { status: res.status, data: data }; },
        function () { return { status: res.status, data: {} }; });
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) return Promise.resolve();
    syncing = true;
    return db.activities.where("state").equals("pending").toArray().then(function (rows) {
      return rows.reduce(function (p, r) {
        return p.then(function () {
          return send(r).then(function (res) {
            if (res.status === 200) {
              r.state = "synced";
              r.code = res.data.code;
              r.attendees.forEach(function (a) { a.synced = true; });
              r.message = res.data.already && res.data.already.length
                ? (res.data.already.length + " · " + msg("msgRepeat")) : "";
            } else if (res.status === 400 || res.status === 409 || res.status === 404) {
              r.state = "conflict";
              r.message = [res.data.error || ""].concat(res.data.errors || []).join(" ");
            } else {
              return;  // the server is not answering well: try again later
            }
            if (current && current.client_id === r.client_id) current = r;
            return db.activities.put(r);
          }, function () { /* no connection after all: stays pending */ });
        });
      }, Promise.resolve());
    }).then(function () { syncing = false; return refresh(); }, function () { syncing = false; });
  }

  function qrFromPhoto() {
    var input = document.getElementById("field-qr-file");
    input.addEventListener("change", function () {
      var f = input.files && input.files[0];
      if (!f) return;
      if (f.size > MAX_PHOTO) { say(msg("msgQrBig"), true); input.value = ""; return; }
      if (!window.Html5Qrcode) { say(msg("msgQrBad"), true); return; }
      new window.Html5Qrcode("field-qr-reader").scanFile(f, false).then(function (text) {
        var card = window.ansinhParseCard ? window.ansinhParseCard(text) : null;
        if (!card) { say(msg("msgQrBad"), true); return; }
        var form = document.getElementById("f-attendee");
        ["person_id", "full_name", "birth_date", "sex", "address"].forEach(function (k) { form.elements[k].value = card[k]; });
        form.elements.source.value = "qr";
        say("", false);
      }, function () { say(msg("msgQrBad"), true); }).then(function () { input.value = ""; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("field");
    if (!root || !window.Dexie) return;
    root.dataset.pendingLabel = document.getElementById("pending-count").textContent.split(":")[0];
    db = new window.Dexie("ansinh-field");
    db.version(1).stores({ activities: "client_id, state" });
    document.getElementById("f-activity").addEventListener("submit", startActivity);
    document.getElementById("save-results").addEventListener("click", saveResults);
    document.getElementById("new-activity").addEventListener("click", newActivity);
    document.getElementById("f-attendee").addEventListener("submit", addAttendee);
    document.getElementById("sync-now").addEventListener("click", sync);
    window.addEventListener("online", function () { net(); sync(); });
    window.addEventListener("offline", net);
    qrFromPhoto();
    net();
    var id = localStorage.getItem("ansinh-field-current");
    (id ? db.activities.get(id) : Promise.resolve(null)).then(function (r) {
      current = r || null;
      showCurrent();
      return refresh();
    }).then(sync);
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(function () {});
  });
})();
