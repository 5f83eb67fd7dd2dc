/* The canvass editor's area picker: draw a polygon on a Leaflet map; the GeoJSON goes
   into the form's text field, which also works alone (paste GeoJSON, no JavaScript).
   The campaign's polling stations are drawn underneath to help. */
(function () {
  "use strict";

  var SHAPE = { color: "#524ed2", weight: 2, fillOpacity: 0.2 };
  var STATIONS = { color: "#777", weight: 1, fillOpacity: 0.04, interactive: false };

  function round(value) { return Math.round(value * 1e6) / 1e6; }

  function readPolygon(text) {
    try {
      var value = JSON.parse(text);
      if (value && value.type === "Polygon" && value.coordinates && value.coordinates[0]) {
        return value.coordinates[0].slice(0, -1).map(function (p) { return [p[1], p[0]]; });
      }
    } catch (error) { /* pasted text that is not (yet) GeoJSON: leave it to the server */ }
    return [];
  }

  function button(label, className) {
    var node = document.createElement("button");
    node.type = "button";
    node.className = className;
    node.textContent = label;
    return node;
  }

  function areaMap(element) {
    var field = document.getElementById(element.getAttribute("data-target"));
    var points = field ? readPolygon(field.value) : [];
    var finished = points.length >= 3;
    var map = L.map(element, { attributionControl: false, doubleClickZoom: false, zoomSnap: 0.25 });
    var tiles = element.getAttribute("data-tiles");
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
    map.setView([48.39, -4.49], 12);
    var layer = L.layerGroup().addTo(map);

    var tools = document.createElement("div");
    tools.className = "area-map-tools";
    var finish = button(element.getAttribute("data-text-finish"), "area-finish");
    var clear = button(element.getAttribute("data-text-clear"), "secondary outline area-clear");
    var status = document.createElement("p");
    status.className = "muted area-status";
    status.setAttribute("aria-live", "polite");
    tools.appendChild(finish);
    tools.appendChild(clear);
    tools.appendChild(status);
    element.parentNode.insertBefore(tools, element.nextSibling);

    function draw() {
      finish.disabled = finished || points.length < 3;
      clear.disabled = !points.length;
      status.textContent = element.getAttribute(finished ? "data-text-done" : "data-text-hint");
      layer.clearLayers();
      if (finished) {
        L.polygon(points, SHAPE).addTo(layer);
        return;
      }
      if (points.length > 1) L.polyline(points, SHAPE).addTo(layer);
      points.forEach(function (point) {
        L.circleMarker(point, { radius: 4, color: SHAPE.color, weight: 2, fillOpacity: 1, interactive: false }).addTo(layer);
      });
    }

    finish.addEventListener("click", function () {
      if (points.length < 3) return;
      finished = true;
      var ring = points.map(function (p) { return [round(p[1]), round(p[0])]; });
      ring.push(ring[0].slice());
      if (field) field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
      draw();
    });
    clear.addEventListener("click", function () {
      finished = false;
      points = [];
      if (field) field.value = "";
      draw();
    });
    map.on("click", function (event) {
      if (finished) return;
      points.push([event.latlng.lat, event.latlng.lng]);
      draw();
    });
    if (field) {
      field.addEventListener("change", function () {
        var pasted = readPolygon(field.value);
        if (pasted.length >= 3) {
          points = pasted;
          finished = true;
          draw();
          map.fitBounds(L.latLngBounds(points), { padding: [24, 24] });
        }
      });
    }

    fetch(element.getAttribute("data-stations-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var stations = L.geoJSON(data, { style: STATIONS }).addTo(map);
        stations.bringToBack();
        if (!points.length && data.features && data.features.length) map.fitBounds(stations.getBounds());
      })
      .catch(function () { /* the background is a help, not a need */ });
    if (points.length) map.fitBounds(L.latLngBounds(points), { padding: [24, 24] });
    draw();
    element._leafletMap = map; // for browser tests
    return map;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("area-map");
    if (!element || typeof L === "undefined") return;
    var holder = element.closest("details");
    var map = null;
    function start() {
      if (!map) map = areaMap(element);
      else map.invalidateSize();
    }
    if (!holder || holder.open) start();
    if (holder) holder.addEventListener("toggle", function () { if (holder.open) start(); });
    // Choosing a kind of area opens its part of the form.
    document.querySelectorAll("input[name='area_kind']").forEach(function (radio) {
      radio.addEventListener("change", function () {
        document.querySelectorAll(".area-choice").forEach(function (part) {
          part.open = part.getAttribute("data-area") === radio.value;
        });
      });
    });
  });
})();
