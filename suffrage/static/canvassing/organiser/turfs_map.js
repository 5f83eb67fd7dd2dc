/* The turfs map: each door a point coloured by its last outcome (grey when not knocked
   yet), each turf outlined; clicking a turf opens its walk list. */
(function () {
  "use strict";

  var COLOURS = {
    "": "#9ca3af",
    not_home: "#f59e0b",
    come_back: "#f97316",
    opened: "#16a34a",
    refused: "#dc2626",
    leaflet: "#2563eb",
    no_access: "#6b7280",
    do_not_contact: "#7f1d1d"
  };

  function escapeHtml(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function legend(map, labels, notKnocked) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "map-legend");
      var rows = [];
      Object.keys(COLOURS).forEach(function (key) {
        var label = key ? labels[key] : notKnocked;
        if (!label) return;
        rows.push('<div><span class="swatch" style="background:' + COLOURS[key] + '"></span>' + escapeHtml(label) + "</div>");
      });
      div.innerHTML = rows.join("");
      return div;
    };
    control.addTo(map);
  }

  function turfsMap(element) {
    var labels = JSON.parse(document.getElementById("outcome-labels").textContent);
    var notKnocked = element.getAttribute("data-not-knocked");
    var turfUrl = element.getAttribute("data-turf-url");
    var map = L.map(element, { zoomSnap: 0.25, attributionControl: false });
    var tiles = element.getAttribute("data-tiles");
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    fetch(element.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var turfs = data.features.filter(function (f) { return f.properties.kind === "turf"; });
        var doors = data.features.filter(function (f) { return f.properties.kind === "door"; });
        var outlines = L.geoJSON({ type: "FeatureCollection", features: turfs }, {
          style: { color: "#524ed2", weight: 2, fillOpacity: 0.06 },
          onEachFeature: function (feature, shape) {
            shape.bindTooltip(escapeHtml(feature.properties.label), { sticky: true });
            shape.on("click", function () {
              window.location.href = turfUrl.replace("/0/", "/" + feature.properties.turf + "/");
            });
          }
        }).addTo(map);
        var points = L.geoJSON({ type: "FeatureCollection", features: doors }, {
          pointToLayer: function (feature, latlng) {
            return L.circleMarker(latlng, {
              radius: 5, weight: 1, color: "#333", fillOpacity: 0.9,
              fillColor: COLOURS[feature.properties.outcome] || COLOURS[""]
            });
          },
          onEachFeature: function (feature, shape) {
            var outcome = feature.properties.outcome ? labels[feature.properties.outcome] : notKnocked;
            shape.bindTooltip(escapeHtml(feature.properties.label + " — " + outcome));
          }
        }).addTo(map);
        var bounds = points.getBounds();
        if (bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16] });
        else if (outlines.getBounds().isValid()) map.fitBounds(outlines.getBounds());
        else map.setView([46.6, 2.4], 5);
        legend(map, labels, notKnocked);
        element.setAttribute("data-loaded", String(doors.length));
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("turfs-map");
    if (element && typeof L !== "undefined") turfsMap(element);
  });
})();
