/* Suffrage embed: put a campaign's public page on another website.

     <div data-suffrage-embed="https://suffrage.example.org/e/campaign/f/form/"></div>
     <script src="https://suffrage.example.org/e/campaign/embed.js" async></script>

   Each such div becomes an iframe of the page in embed mode, whose height follows its
   content: the page posts {suffrage: "height", value: <px>} to us, and we accept it only
   from the origin this script came from, and only from that iframe. The website's origin
   must be in the campaign's allowed origins, or the page refuses to be framed. */
(function () {
  "use strict";
  var script = document.currentScript;
  var ours = script ? new URL(script.src, document.baseURI).origin : null;
  var frames = [];

  function mount(holder) {
    if (holder.getAttribute("data-suffrage-mounted")) return;
    var url;
    try {
      url = new URL(holder.getAttribute("data-suffrage-embed"), document.baseURI);
    } catch (error) {
      return;
    }
    if (ours && url.origin !== ours) return; // another server's page: not ours to show
    url.searchParams.set("embed", "1");
    var frame = document.createElement("iframe");
    frame.src = url.toString();
    frame.title = holder.getAttribute("data-suffrage-title") || "Form";
    frame.setAttribute("scrolling", "no");
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.display = "block";
    frame.style.overflow = "hidden";
    frame.style.height = (holder.getAttribute("data-suffrage-height") || "600") + "px";
    holder.setAttribute("data-suffrage-mounted", "1");
    holder.appendChild(frame);
    frames.push(frame);
  }

  window.addEventListener("message", function (event) {
    if (!ours || event.origin !== ours) return;
    var data = event.data;
    if (!data || data.suffrage !== "height") return;
    var height = parseInt(data.value, 10);
    if (!(height > 0 && height < 20000)) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = height + "px";
      }
    }
  });

  function mountAll() {
    var holders = document.querySelectorAll("[data-suffrage-embed]");
    for (var i = 0; i < holders.length; i++) mount(holders[i]);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
