// Switching the language reloads the page: keep what was typed in its forms (in this tab's
// sessionStorage, for this page only, never passwords, files or hidden fields) and put it back
// once the page comes again in the other language. Without JavaScript the switch is a button
// that sends the form to /language, which keeps its text on the server (core.web.kept_forms).
(function () {
  var KEY = "yishi-kept:" + window.location.pathname;
  var SKIPPED = { password: 1, file: 1, hidden: 1, submit: 1, button: 1, reset: 1, image: 1 };

  function fields(form) {
    var list = [];
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (el.name && !SKIPPED[el.type] && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) {
        list.push(el);
      }
    }
    return list;
  }

  function save() {
    var forms = document.querySelectorAll("main form");
    var kept = [];
    for (var f = 0; f < forms.length; f++) {
      fields(forms[f]).forEach(function (el, i) {
        var entry = { form: f, index: i, name: el.name };
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.checked === el.defaultChecked) { return; }
          entry.checked = el.checked;
        } else if (el.tagName === "SELECT") {
          entry.value = el.value;
        } else {
          if (el.value === el.defaultValue) { return; }
          entry.value = el.value;
        }
        kept.push(entry);
      });
    }
    try {
      if (kept.length) { window.sessionStorage.setItem(KEY, JSON.stringify(kept)); }
    } catch (e) { /* storage full or off: the page reloads as without JavaScript */ }
  }

  function restore() {
    var kept;
    try {
      kept = JSON.parse(window.sessionStorage.getItem(KEY) || "null");
      window.sessionStorage.removeItem(KEY);
    } catch (e) { return; }
    if (!kept) { return; }
    var forms = document.querySelectorAll("main form");
    kept.forEach(function (entry) {
      var form = forms[entry.form];
      var el = form && fields(form)[entry.index];
      if (!el || el.name !== entry.name) { return; }
      if ("checked" in entry) { el.checked = entry.checked; } else { el.value = entry.value; }
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-keep-forms]");
    if (!link) { return; }
    save();
    // On a page with a form the switch is a button that sends the form to /language (how it
    // works without JavaScript). Here the link's address is followed instead: the form may be
    // an htmx one, whose request must not go to /language, and its files are not sent.
    if (link.tagName === "BUTTON" && link.getAttribute("data-href")) {
      event.preventDefault();
      window.location.href = link.getAttribute("data-href");
    }
  });
  restore();
})();
