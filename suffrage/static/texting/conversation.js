/* A canned answer's button puts its text in the answer box, to be read and changed
   before sending (never sent by itself). Without JavaScript the select below does it. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-canned]");
    if (!button) return;
    var box = button.form.querySelector("textarea[name=text]");
    box.value = button.getAttribute("data-canned");
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });
})();
