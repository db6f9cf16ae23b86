// Small progressive enhancements; every page works without this file.
// Forms or buttons with data-confirm ask before an irreversible step (the server still shows
// its own confirmation page when JavaScript is off).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
}, true);
