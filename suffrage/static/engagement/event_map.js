/* An event's place on a map, drawn only when the server has a tile URL (MAP_TILES_URL):
   otherwise the page links to OpenStreetMap and loads nothing. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var element = document.querySelector("[data-event-map]");
    if (!element || !window.L) return;
    var point = [parseFloat(element.getAttribute("data-lat")), parseFloat(element.getAttribute("data-lon"))];
    var map = window.L.map(element, { scrollWheelZoom: false }).setView(point, 16);
    window.L.tileLayer(element.getAttribute("data-tiles"), {
      maxZoom: 19,
      attribution: "© OpenStreetMap"
    }).addTo(map);
    window.L.circleMarker(point, { radius: 9, weight: 3, color: "#111", fillColor: "#ffd400", fillOpacity: 1 }).addTo(map);
  });
})();
