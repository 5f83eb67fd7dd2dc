/* Small helpers of the public pages; everything works without them.
   - Embedded (html[data-embedded]): tell the parent page our height, on load and on
     every change, so that embed.js sizes the iframe to the content.
   - "Copy" buttons beside share links. */
(function () {
  "use strict";
  var root = document.documentElement;

  if (root.hasAttribute("data-embedded") && window.parent !== window) {
    var last = 0;
    var post = function () {
      var height = Math.ceil(root.getBoundingClientRect().height);
      if (height !== last) {
        last = height;
        window.parent.postMessage({ suffrage: "height", value: height }, "*");
      }
    };
    window.addEventListener("load", post);
    window.addEventListener("resize", post);
    if (window.ResizeObserver) new ResizeObserver(post).observe(document.body);
    document.addEventListener("DOMContentLoaded", post);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(input.value).then(function () {
          button.textContent = button.getAttribute("data-copied");
        });
      });
    });
  });
})();
