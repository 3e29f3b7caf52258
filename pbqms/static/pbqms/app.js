// Small progressive enhancements; every page works without this file.
(function () {
  // Return to the login page when the idle session timeout has surely passed.
  var minutes = parseInt(document.body.dataset.idleMinutes || "0", 10);
  if (minutes > 0) {
    var timer;
    var reset = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { window.location.reload(); }, (minutes * 60 + 5) * 1000);
    };
    ["click", "keydown", "htmx:afterRequest"].forEach(function (e) { document.addEventListener(e, reset); });
    reset();
  }
})();

// Behaviour that used to sit in inline attributes (onchange=, hx-on:…), so the pages pass a
// Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval'.
(function () {
  // <select data-autosubmit>: submit its form on change.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) { el.form.submit(); }
    // attendance: unticking "present" moves to the absence reason
    if (el.matches && el.matches("[data-focus-reason]") && !el.checked) {
      var row = el.closest(".att-row");
      var reason = row && row.querySelector(".att-reason input");
      if (reason) { reason.focus(); }
    }
  });
  // [data-mark-editing]: a score row being typed in is marked (the save shows what changed).
  document.addEventListener("input", function (e) {
    var row = e.target.closest && e.target.closest("[data-mark-editing]");
    if (row) { row.classList.add("editing"); }
  });
  // <button data-remove-closest="li|tr">: remove that enclosing element (an unsaved line or file).
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-remove-closest]");
    if (button) { var gone = button.closest(button.dataset.removeClosest); if (gone) { gone.remove(); } }
  });
  // <input type=file data-upload>: clear old errors before sending, empty the input after.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    if (elt.matches && elt.matches("[data-upload]")) {
      var box = elt.closest(".file-input");
      if (box) { box.querySelectorAll(".file-error").forEach(function (x) { x.remove(); }); }
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail.elt;
    if (elt.matches && elt.matches("[data-upload]")) { elt.value = ""; }
  });
})();
