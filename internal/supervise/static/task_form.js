// Task form: show the instruction or key-project fields for their source,
// and list the chosen lead unit's people as owners. The form works without
// this file (all fields shown; owners listed after the first submission).
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var form = document.getElementById("task-form");
    if (!form) { return; }
    var source = document.getElementById("source");
    var sets = form.querySelectorAll("fieldset[data-source]");
    function toggle() {
      for (var i = 0; i < sets.length; i++) {
        sets[i].hidden = sets[i].getAttribute("data-source") !== source.value;
      }
    }
    source.addEventListener("change", toggle);
    toggle();

    var unit = document.getElementById("lead_unit_id");
    var owner = document.getElementById("owner_id");
    if (!unit || !owner || !window.fetch) { return; }
    unit.addEventListener("change", function () {
      while (owner.options.length > 1) { owner.remove(1); }
      owner.options[0].textContent = owner.getAttribute("data-empty");
      if (!unit.value) { return; }
      var want = unit.value;
      fetch("/api/v1/people?limit=500&unit_id=" + encodeURIComponent(want), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
        if (!body || unit.value !== want) { return; }
        var n = 0;
        (body.items || []).forEach(function (p) {
          if (p.active === false) { return; }
          owner.add(new Option(p.name + (p.title ? "（" + p.title + "）" : ""), String(p.id)));
          n++;
        });
        if (n > 0) { owner.options[0].textContent = owner.getAttribute("data-choose") || ""; }
        if (n === 1) { owner.selectedIndex = 1; }
      }).catch(function () { /* the server lists them after submitting */ });
    });
  });
})();
