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
