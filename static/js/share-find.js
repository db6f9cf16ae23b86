// Share and find (works without it: the link can be selected by hand, the filters opened).
// - "Copy link" buttons (hidden until this script runs) copy their field's address.
// - On a wide screen the proposal list's "Filter" box starts open (on a phone, closed).
(function () {
  "use strict";
  function ready() {
    document.querySelectorAll("button.copy-link[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var status = button.parentNode.querySelector(".copy-status");
      if (!field) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () { if (status) status.textContent = button.getAttribute("data-copied"); };
        field.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () {
            if (document.execCommand("copy")) done();
          });
        } else if (document.execCommand("copy")) {
          done();
        }
      });
    });
    if (window.matchMedia && window.matchMedia("(min-width: 48rem)").matches) {
      document.querySelectorAll("details.filter-toggle").forEach(function (d) { d.open = true; });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
