/* Polling-station maps (Leaflet). No tile server is needed: shapes are drawn on a
   plain background; a tile URL can be configured (MAP_TILES_URL). */
(function () {
  "use strict";

  // Sequential scale for rates (light to dark), diverging for changes (red ← 0 → blue).
  var SEQUENTIAL = ["#f1eef6", "#d0d1e6", "#a6bddb", "#74a9cf", "#2b8cbe", "#045a8d"];
  var DIVERGING = ["#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"];

  // Names come from imported files: never let them be read as HTML.
  function escapeHtml(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function percent(value, signed) {
    var text = (value * 100).toFixed(1).replace(".", ",") + " %";
    return signed && value > 0 ? "+" + text : text;
  }

  function breaks(values, diverging) {
    if (diverging) {
      var extent = Math.max.apply(null, values.map(Math.abs)) || 0.01;
      return [-extent * 2 / 3, -extent / 3, 0, extent / 3, extent * 2 / 3];
    }
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    var result = [];
    for (var i = 1; i < 6; i++) {
      result.push(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * i / 6))]);
    }
    return result;
  }

  function colourFor(value, limits, palette) {
    if (value === null || value === undefined) return "#cccccc";
    for (var i = 0; i < limits.length; i++) {
      if (value < limits[i]) return palette[i];
    }
    return palette[palette.length - 1];
  }

  function legend(map, limits, palette, signed, noData) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "map-legend");
      var rows = [];
      for (var i = 0; i < palette.length; i++) {
        var from = i === 0 ? null : limits[i - 1];
        var to = i < limits.length ? limits[i] : null;
        var label = from === null ? "< " + percent(to, signed) : to === null ? "≥ " + percent(from, signed) : percent(from, signed) + " – " + percent(to, signed);
        rows.push('<div><span class="swatch" style="background:' + palette[i] + '"></span>' + label + "</div>");
      }
      rows.push('<div><span class="swatch" style="background:#cccccc"></span>' + noData + "</div>");
      div.innerHTML = rows.join("");
      return div;
    };
    control.addTo(map);
  }

  function baseMap(element) {
    var map = L.map(element, { zoomSnap: 0.25, attributionControl: false });
    var tiles = element.getAttribute("data-tiles");
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    return map;
  }

  function stationMap(element) {
    var map = baseMap(element);
    var diverging = element.getAttribute("data-measure") === "change";
    var stationUrl = element.getAttribute("data-station-url");
    fetch(element.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var values = data.features.map(function (f) { return f.properties.value; }).filter(function (v) { return v !== null && v !== undefined; });
        var palette = diverging ? DIVERGING : SEQUENTIAL;
        var limits = breaks(values.length ? values : [0], diverging);
        var layer = L.geoJSON(data, {
          style: function (feature) {
            return {
              color: "#333", weight: 1, fillOpacity: 0.75,
              dashArray: feature.properties.approximate ? "4" : null,
              fillColor: colourFor(feature.properties.value, limits, palette)
            };
          },
          onEachFeature: function (feature, shape) {
            var value = feature.properties.value;
            var text = feature.properties.name + " — " + (value === null || value === undefined ? element.getAttribute("data-no-data") : percent(value, diverging));
            shape.bindTooltip(escapeHtml(text), { sticky: true });
            shape.on("click", function () { window.location.href = stationUrl.replace("CODE", feature.properties.code); });
          }
        }).addTo(map);
        if (data.features.length) map.fitBounds(layer.getBounds());
        else map.setView([46.6, 2.4], 5);
        legend(map, limits, palette, diverging, element.getAttribute("data-no-data"));
        element.setAttribute("data-loaded", String(data.features.length));
      });
  }

  function shapeMap(element) {
    var map = baseMap(element);
    var geometry = JSON.parse(document.getElementById("station-geometry").textContent);
    var layer = L.geoJSON(geometry, { style: { color: "#524ed2", weight: 2, fillOpacity: 0.2 } }).addTo(map);
    map.fitBounds(layer.getBounds());
  }

  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("station-map");
    if (element) stationMap(element);
    var shape = document.getElementById("station-shape");
    if (shape) shapeMap(shape);
  });
})();
