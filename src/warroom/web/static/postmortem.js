// The postmortem editor's blameless lint as you type. Each section form (class pm-edit)
// posts its text to the form's data-lint URL 400 ms after the last keystroke; the server
// answers an HTML fragment (escaped there) that replaces the findings under the textarea.
// Without this script the same findings appear after "Save": nothing depends on it.
(function () {
  "use strict";
  var WAIT_MS = 400;

  function watch(form) {
    var area = form.querySelector("textarea");
    var out = form.querySelector(".lint");
    var token = form.querySelector("input[name=csrf_token]");
    if (!area || !out || !token || !form.dataset.lint) return;
    var timer = null;
    var asked = 0;

    function check() {
      var body = new URLSearchParams();
      body.set("csrf_token", token.value);
      body.set("section", form.dataset.section || area.name);
      body.set("text", area.value);
      var mine = ++asked;
      out.setAttribute("aria-busy", "true");
      fetch(form.dataset.lint, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (answer) { return answer.text(); })
        .then(function (html) {
          if (mine !== asked) return; // a newer check is on its way
          out.innerHTML = html;
          out.removeAttribute("aria-busy");
        })
        .catch(function () { out.removeAttribute("aria-busy"); });
    }

    area.addEventListener("input", function () {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(check, WAIT_MS);
    });
  }

  document.querySelectorAll("form.pm-edit").forEach(watch);
})();
