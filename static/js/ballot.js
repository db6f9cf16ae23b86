// The ballot's running total. After Back from a project's page the browser restores the ticks
// (and typed points) the resident had made, but the total shown is the one computed for the page
// as the server sent it ("0 chosen"). When the page is shown and its inputs differ from what the
// server sent (or it comes back from the back-forward cache), ask the server for the total again.
(function () {
  function changed(form) {
    var inputs = form.querySelectorAll("input[type=checkbox], input[type=number]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "checkbox" ? input.checked !== input.defaultChecked : input.value !== input.defaultValue) {
        return true;
      }
    }
    return false;
  }
  window.addEventListener("pageshow", function (event) {
    var form = document.querySelector("form.ballot[hx-post]");
    if (form && window.htmx && (event.persisted || changed(form))) {
      // after htmx (also deferred) has set the form up
      window.setTimeout(function () { window.htmx.trigger(form, "change"); }, 0);
    }
  });
})();
