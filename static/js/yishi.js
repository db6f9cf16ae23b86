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

// A 429 (too many comments a minute) answers an htmx form with the form again, its message
// and the typed text: show it like a 422 (htmx's configuration swaps only 2xx and 422).
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 429) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A form too large to send (413: photos or a file over the limit) answers htmx with the
// message alone; htmx swaps nothing on an error, so say it, and the typed text stays.
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status === 413 && xhr.responseText) {
    window.alert(xhr.responseText);
  }
});
