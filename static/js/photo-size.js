// A photo over the size limit is said at once, before the form is sent (the server still
// checks): the file input carries the limit (data-max-bytes) and the message (data-too-large,
// with {name} for the file's name).
(function () {
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) { return; }
    var limit = Number(input.getAttribute("data-max-bytes"));
    var message = "";
    for (var i = 0; i < input.files.length; i++) {
      if (input.files[i].size > limit) {
        message = input.getAttribute("data-too-large").replace("{name}", input.files[i].name);
        break;
      }
    }
    input.setCustomValidity(message);
    var box = document.getElementById(input.id + "-size-error");
    if (box) {
      box.textContent = message;
      box.hidden = !message;
    }
    if (message) { input.reportValidity(); }
  });
})();
