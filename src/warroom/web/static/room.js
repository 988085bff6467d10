// The live room: listen for server-sent "changed" events, fetch the room's live
// sections and swap them in, skipping any section where someone is typing (it is
// refreshed once they leave it). Also ticks the countdown to the next status update.
(function () {
  "use strict";
  // A link to one of the Act panel's sections (the phone's action bar) opens it.
  function openTarget() {
    var target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  var room = document.getElementById("room");
  if (!room) { return; }
  var ref = room.dataset.ref;
  var query = room.dataset.query ? "?" + room.dataset.query : "";
  var state = document.getElementById("live-state");
  var source = null;
  var pending = false;   // a refresh skipped a busy section
  var loading = false;
  var again = false;
  var stopped = false;   // signed out: nothing more to fetch

  function setState(text, cls) {
    if (!state) { return; }
    state.textContent = text;
    state.className = "live-state " + cls;
  }

  function edited(field) {
    if (field.type === "hidden" || field.type === "submit") { return false; }
    if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
    if (field.tagName === "SELECT") {
      for (var i = 0; i < field.options.length; i++) {
        if (field.options[i].selected !== field.options[i].defaultSelected) { return true; }
      }
      return false;
    }
    return field.value !== field.defaultValue;
  }

  function busy(section) {
    var active = document.activeElement;
    if (active && active !== document.body && section.contains(active) &&
        /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(active.tagName)) { return true; }
    var fields = section.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      if (edited(fields[i])) { return true; }
    }
    return false;
  }

  function refresh() {
    if (stopped) { return; }
    if (loading) { again = true; return; }
    loading = true;
    fetch("/incidents/" + encodeURIComponent(ref) + "/fragment" + query, {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (response) {
      if (response.status === 401) {
        // the session expired or the token was revoked: stop listening, say so
        stopped = true;
        if (source) { source.close(); }
        setState("signed out: reload to log in", "off");
        throw new Error("signed out");
      }
      if (!response.ok) { throw new Error("fragment " + response.status); }
      var version = response.headers.get("X-Warroom-Version");
      return response.text().then(function (html) { return [html, version]; });
    }).then(function (result) {
      var holder = document.createElement("template");
      holder.innerHTML = result[0];
      var skipped = false;
      holder.content.querySelectorAll("[data-live]").forEach(function (fresh) {
        var current = document.getElementById(fresh.id);
        if (!current) { return; }
        if (busy(current)) { skipped = true; return; }
        current.replaceWith(fresh);
      });
      pending = skipped;
      if (result[1]) { room.dataset.version = result[1]; }
      setState("live · updated " + new Date().toISOString().slice(11, 19) + " UTC", "on");
      tick();
    }).catch(function () {
      pending = true;
    }).then(function () {
      loading = false;
      if (again) { again = false; refresh(); }
    });
  }

  function connect() {
    if (!window.EventSource) { return; }
    source = new EventSource("/incidents/" + encodeURIComponent(ref) + "/events?since=" + room.dataset.version);
    source.addEventListener("open", function () { setState("live", "on"); });
    source.addEventListener("changed", refresh);
    source.addEventListener("gone", function () { source.close(); setState("gone", "off"); });
    source.addEventListener("error", function () {
      setState(source.readyState === EventSource.CLOSED ? "offline: reload" : "reconnecting", "off");
    });
  }

  // A section skipped while someone typed in it is refreshed once they are done.
  room.addEventListener("focusout", function () {
    if (pending) { window.setTimeout(function () { if (pending) { refresh(); } }, 300); }
  });

  function human(seconds) {
    var s = Math.floor(Math.abs(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60), r = s % 60;
    function two(n) { return n < 10 ? "0" + n : String(n); }
    if (d) { return d + "d " + h + "h " + two(m) + "m"; }
    if (h) { return h + "h " + two(m) + "m"; }
    if (m) { return m + "m " + two(r) + "s"; }
    return r + "s";
  }

  function tick() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - Date.now()) / 1000;
      var overdue = left < 0;
      el.textContent = overdue ? "overdue by " + human(-left) : "in " + human(left);
      var box = el.closest(".next-update");
      if (box) { box.classList.toggle("overdue", overdue); }
    });
  }

  window.setInterval(tick, 1000);
  tick();
  connect();
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
})();
