/* The visual segment builder.

   The JSON document in #segment-json stays the source of truth: it is what the form
   submits. The builder shows the document when it has a shape the builder can show,
   rewrites it on every change and tells htmx (`segment-changed`) to refresh the count.

   Shape the builder shows: {"all"|"any": [ITEM, …]} where ITEM is a condition,
   {"not": condition}, or an OR group {"any": [condition or {"not": condition}, …]}.
   Anything else stays a document, edited in the textarea.

   Incomplete rows are left out of the document, so the count never fails while a
   row is being filled in. No UI text here: labels come translated from the template
   (<template id="segment-builder-labels">), field and choice labels from the
   vocabulary (json_script "segment-vocabulary"). */
(function () {
  "use strict";

  // Operators per kind of custom field (suffrage/segments/language.py, CUSTOM_OPS).
  var CUSTOM_OPS = {
    text: ["equals", "contains", "is_set"],
    number: ["equals", "range", "is_set"],
    date: ["equals", "range", "is_set"],
    boolean: ["equals", "is_set"],
    choice: ["equals", "is_set"],
    multiple: ["contains", "is_set"]
  };
  // Suggestions offered while typing a list of values: where they come from.
  var SUGGESTIONS = {
    tag: "tags",
    commune: "communes",
    constituency: "constituencies",
    polling_station: "stations",
    roll_station: "stations"
  };
  var CONSENT_STATES = ["granted", "withdrawn", "unknown"];
  var DASH = " — "; // between a code and its name in suggestions: "29019 — Brest"
  var DATE = /^\d{4}-\d{2}-\d{2}$/;
  var DEFAULT_METRES = 500;
  var MAX_SUGGESTIONS = 200;
  var SHAPE = { color: "#524ed2", weight: 2, fillOpacity: 0.15, interactive: false };

  var vocabulary, labels, form, textarea, panel, root, note, ui;
  var model = null; // {mode: "all"|"any", items: [row | group], list, empty, addButton}
  var mounts = []; // maps to create once their container is in the page
  var counter = 0;
  var timer = null;

  // --- small helpers ----------------------------------------------------------------

  function t(key, values) {
    var text = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function nextId(prefix) {
    counter += 1;
    return "segment-" + prefix + "-" + counter;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function button(text, className, onClick, attrs) {
    var node = el("button", Object.assign({ type: "button", className: className, text: text }, attrs || {}));
    node.addEventListener("click", onClick);
    return node;
  }

  // A <select> of [value, label] pairs; `placeholder` adds an empty first option.
  function select(label, options, current, onChange, placeholder, className) {
    var node = el("select", { "aria-label": label, className: className });
    if (placeholder !== undefined) node.appendChild(el("option", { value: "", text: placeholder }));
    options.forEach(function (option) {
      node.appendChild(el("option", { value: String(option[0]), text: String(option[1]) }));
    });
    node.value = current === undefined || current === null ? "" : String(current);
    node.addEventListener("change", function () { onChange(node.value); });
    return node;
  }

  // An input with its visible label around it ("From [date]").
  function labelled(text, input, className) {
    return el("label", { className: "segment-inline" + (className ? " " + className : "") }, [
      el("span", { text: text }), input
    ]);
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function keysWithin(object, allowed) {
    return Object.keys(object).every(function (key) { return allowed.indexOf(key) >= 0; });
  }

  function sameKeys(object, keys) {
    return Object.keys(object).length === keys.length && keysWithin(object, keys);
  }

  function same(a, b) {
    if (a === b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    var keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every(function (key) {
      return Object.prototype.hasOwnProperty.call(b, key) && same(a[key], b[key]);
    });
  }

  function finite(value) {
    return typeof value === "number" && isFinite(value);
  }

  function round(value) {
    return Math.round(value * 1e6) / 1e6;
  }

  // --- the vocabulary -------------------------------------------------------------

  function choicesFor(name) {
    return vocabulary.choices[name] || [];
  }

  function codesFor(name) {
    return choicesFor(name).map(function (choice) { return choice[0]; });
  }

  // A choice's value as the vocabulary types it (support levels are numbers).
  function codeFrom(name, text) {
    var codes = codesFor(name);
    for (var i = 0; i < codes.length; i++) if (String(codes[i]) === text) return codes[i];
    return undefined;
  }

  function customField(key) {
    var fields = vocabulary.custom_fields || [];
    for (var i = 0; i < fields.length; i++) if (fields[i].key === key) return fields[i];
    return null;
  }

  function paired(name) {
    var source = SUGGESTIONS[name];
    return source === "communes" || source === "stations";
  }

  function suggestionsFor(name) {
    var source = vocabulary[SUGGESTIONS[name]] || [];
    return source.map(function (entry) {
      if (Array.isArray(entry)) {
        var code = String(entry[0]);
        // A comma would split the entry in two: names lose theirs.
        var label = entry[1] ? code + DASH + String(entry[1]).replace(/\s*,\s*/g, " ") : code;
        return { value: code, label: label };
      }
      return { value: String(entry), label: String(entry) };
    }).filter(function (entry) { return entry.value.indexOf(",") < 0; });
  }

  function parseStrings(name, text) {
    var values = text.split(",").map(function (part) {
      part = part.trim();
      return paired(name) ? part.split(DASH.trim())[0].trim() : part;
    }).filter(Boolean);
    return values.length ? values : undefined;
  }

  function displayStrings(name, values) {
    if (!paired(name)) return values.join(", ");
    var names = {};
    suggestionsFor(name).forEach(function (entry) { names[entry.value] = entry.label; });
    return values.map(function (code) { return names[code] || code; }).join(", ");
  }

  // --- rows, groups and the document ----------------------------------------------

  function newRow(values) {
    return Object.assign({ kind: "row", exclude: false, field: "", op: undefined, key: undefined, value: undefined, cleanup: [] }, values || {});
  }

  function newGroup(rows) {
    return { kind: "group", items: rows || [] };
  }

  // Can the builder show this condition as it is (and give it back unchanged)?
  function fits(row) {
    var spec = vocabulary.fields[row.field];
    if (!spec || spec.ops.indexOf(row.op) < 0) return false;
    if (row.field === "custom") return fitsCustom(row);
    if (row.key !== undefined) return false;
    var value = row.value;
    switch (spec.value) {
      case "strings":
        return Array.isArray(value) && value.length > 0 && value.every(function (text) {
          return typeof text === "string" && text && text === text.trim() && text.indexOf(",") < 0 &&
            (!paired(row.field) || text.indexOf(DASH.trim()) < 0);
        });
      case "choices":
        return Array.isArray(value) && value.length > 0 && value.every(function (code) {
          return codesFor(row.field).indexOf(code) >= 0;
        });
      case "choice":
        return codesFor(row.field).indexOf(value) >= 0;
      case "consent":
        return isObject(value) && sameKeys(value, ["channel", "state"]) &&
          codesFor("channel").indexOf(value.channel) >= 0 && CONSENT_STATES.indexOf(value.state) >= 0;
      case "date_range":
        return isObject(value) && Object.keys(value).length > 0 && keysWithin(value, ["from", "to"]) &&
          Object.keys(value).every(function (key) { return DATE.test(String(value[key])); });
      case "polygon":
        if (!isObject(value) || !sameKeys(value, ["type", "coordinates"]) || value.type !== "Polygon") return false;
        if (!Array.isArray(value.coordinates) || value.coordinates.length !== 1) return false;
        var ring = value.coordinates[0];
        return Array.isArray(ring) && ring.length >= 4 && same(ring[0], ring[ring.length - 1]) &&
          ring.every(function (point) {
            return Array.isArray(point) && point.length === 2 && finite(point[0]) && finite(point[1]);
          });
      case "circle":
        return isObject(value) && sameKeys(value, ["lon", "lat", "metres"]) &&
          finite(value.lon) && finite(value.lat) && finite(value.metres);
      case "segment":
        return (vocabulary.segments || []).some(function (entry) { return entry[0] === value; });
      case "mailing":
        return (vocabulary.mailings || []).some(function (entry) { return entry[0] === value; });
      case "form":
        return (vocabulary.forms || []).some(function (entry) { return entry[0] === value; });
      case "event":
        return (vocabulary.events || []).some(function (entry) { return entry[0] === value; });
    }
    return false;
  }

  function fitsCustom(row) {
    var custom = customField(row.key);
    if (!custom || (CUSTOM_OPS[custom.kind] || []).indexOf(row.op) < 0) return false;
    var value = row.value;
    if (row.op === "is_set") return value === undefined;
    if (row.op === "range") {
      if (!isObject(value) || !Object.keys(value).length || !keysWithin(value, ["min", "max"])) return false;
      return Object.keys(value).every(function (key) {
        return custom.kind === "number" ? finite(value[key]) : DATE.test(String(value[key]));
      });
    }
    switch (custom.kind) {
      case "number": return finite(value);
      case "date": return typeof value === "string" && DATE.test(value);
      case "boolean": return typeof value === "boolean";
      case "choice":
      case "multiple": return (custom.choices || []).indexOf(value) >= 0;
      default: return typeof value === "string" && value.trim() !== "";
    }
  }

  function rowFrom(node) {
    if (!isObject(node)) return null;
    var exclude = false;
    if (sameKeys(node, ["not"])) {
      exclude = true;
      node = node.not;
      if (!isObject(node)) return null;
    }
    if (typeof node.field !== "string") return null;
    if (!keysWithin(node, node.field === "custom" ? ["field", "op", "key", "value"] : ["field", "op", "value"])) return null;
    var row = newRow({ exclude: exclude, field: node.field, op: node.op, key: node.key, value: node.value });
    return fits(row) ? row : null;
  }

  // The builder's model for a document, or null when the builder cannot show it.
  function modelFrom(document_) {
    if (!isObject(document_) || !keysWithin(document_, ["version", "filter"]) || document_.version !== 1) return null;
    var filter = "filter" in document_ ? document_.filter : { all: [] };
    if (!isObject(filter)) return null;
    var mode = sameKeys(filter, ["all"]) ? "all" : sameKeys(filter, ["any"]) ? "any" : null;
    if (!mode || !Array.isArray(filter[mode])) return null;
    var items = [];
    for (var i = 0; i < filter[mode].length; i++) {
      var child = filter[mode][i];
      if (isObject(child) && sameKeys(child, ["any"])) {
        if (!Array.isArray(child.any) || !child.any.length) return null;
        var rows = child.any.map(rowFrom);
        if (rows.some(function (row) { return !row; })) return null;
        items.push(newGroup(rows));
      } else {
        var row = rowFrom(child);
        if (!row) return null;
        items.push(row);
      }
    }
    var result = { mode: mode, items: items };
    return same(documentOf(result), { version: 1, filter: filter }) ? result : null;
  }

  function conditionOf(row) {
    if (!row.field || !vocabulary.fields[row.field]) return null;
    var custom = row.field === "custom";
    if (custom && (!row.key || !row.op)) return null;
    var isSet = custom && row.op === "is_set";
    if (!isSet && row.value === undefined) return null;
    var condition = { field: row.field, op: row.op };
    if (custom) condition.key = row.key;
    if (!isSet) condition.value = row.value;
    return row.exclude ? { not: condition } : condition;
  }

  function documentOf(state) {
    var items = [];
    state.items.forEach(function (item) {
      if (item.kind === "group") {
        var conditions = item.items.map(conditionOf).filter(Boolean);
        if (conditions.length) items.push({ any: conditions });
      } else {
        var condition = conditionOf(item);
        if (condition) items.push(condition);
      }
    });
    var filter = {};
    // Nothing complete yet: everyone, whichever way conditions will combine.
    filter[items.length ? state.mode : "all"] = items;
    return { version: 1, filter: filter };
  }

  // --- writing the document -------------------------------------------------------

  function changed() {
    // While the document is being edited by hand, the builder (and its maps) keep off it.
    if (ui.hidden || ui.disabled) return;
    refresh();
    var text = JSON.stringify(documentOf(model), null, 2);
    if (text === textarea.value) return;
    textarea.value = text;
    form.dispatchEvent(new CustomEvent("segment-changed", { bubbles: true }));
  }

  // Incomplete markers, accessible names that number the rows, the empty note.
  function refresh() {
    var number = 0;
    var groups = 0;
    function mark(row) {
      number += 1;
      var incomplete = !conditionOf(row);
      row.el.classList.toggle("incomplete", incomplete);
      row.hint.hidden = !incomplete;
      row.legend.textContent = t("condition_n", { n: number });
      row.removeButton.setAttribute("aria-label", t("remove_condition") + " (" + number + ")");
    }
    model.items.forEach(function (item) {
      if (item.kind === "group") {
        groups += 1;
        item.legend.textContent = t("group_n", { n: groups });
        item.items.forEach(mark);
      } else {
        mark(item);
      }
    });
    model.empty.hidden = model.items.length > 0;
  }

  // --- maps -----------------------------------------------------------------------

  function mount(callback) {
    mounts.push(callback);
  }

  function flushMounts() {
    var pending = mounts;
    mounts = [];
    pending.forEach(function (callback) { callback(); });
  }

  function createMap(container, row) {
    var map = L.map(container, { attributionControl: false, doubleClickZoom: false, zoomSnap: 0.25 });
    var tiles = root.getAttribute("data-tiles");
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
    var center = (root.getAttribute("data-map-center") || "48.39,-4.49").split(",").map(Number);
    map.setView(center, Number(root.getAttribute("data-map-zoom") || 12));
    container._leafletMap = map; // for the browser tests
    row.cleanup.push(function () { map.remove(); });
    return map;
  }

  function polygonControl(row, box) {
    var container = el("div", { className: "segment-map", role: "region", "aria-label": t("map_area") });
    var status = el("p", { className: "segment-map-status muted", "aria-live": "polite" });
    var points = row.value ? row.value.coordinates[0].slice(0, -1).map(function (p) { return [p[1], p[0]]; }) : [];
    var finished = Boolean(row.value);
    var layer = null;
    var finish = button(t("finish"), "segment-finish", function () {
      if (points.length < 3) return;
      finished = true;
      var ring = points.map(function (p) { return [round(p[1]), round(p[0])]; });
      ring.push(ring[0].slice());
      row.value = { type: "Polygon", coordinates: [ring] };
      draw();
      changed();
    });
    var clear = button(t("clear"), "secondary outline segment-clear", function () {
      finished = false;
      points = [];
      row.value = undefined;
      draw();
      changed();
    });
    function draw() {
      finish.disabled = finished || points.length < 3;
      clear.disabled = !points.length;
      status.textContent = finished ? t("area_done", { n: points.length }) : t("area_hint");
      if (!layer) return;
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
    box.appendChild(container);
    box.appendChild(el("div", { className: "segment-map-tools" }, [finish, clear, status]));
    draw();
    mount(function () {
      var map = createMap(container, row);
      layer = L.layerGroup().addTo(map);
      map.on("click", function (event) {
        if (finished) return;
        points.push([event.latlng.lat, event.latlng.lng]);
        draw();
      });
      if (points.length) map.fitBounds(L.latLngBounds(points), { padding: [24, 24] });
      draw();
    });
  }

  function circleControl(row, box) {
    var container = el("div", { className: "segment-map", role: "region", "aria-label": t("map_point") });
    var status = el("p", { className: "segment-map-status muted", "aria-live": "polite" });
    var point = row.value ? [row.value.lat, row.value.lon] : null;
    var metres = el("input", { type: "number", min: 1, max: 100000, step: 1, inputmode: "numeric", className: "segment-metres" });
    metres.value = String(row.value ? row.value.metres : DEFAULT_METRES);
    var circle = null;
    var centre = null;
    function distance() {
      var value = Number(metres.value);
      return metres.value !== "" && isFinite(value) && value >= 1 && value <= 100000 ? value : null;
    }
    function update() {
      var value = distance();
      row.value = point && value !== null ? { lon: round(point[1]), lat: round(point[0]), metres: value } : undefined;
      status.textContent = point ? t("point_done") : t("point_hint");
      if (circle) {
        circle.setLatLng(point || [0, 0]).setRadius(value || 0);
        centre.setLatLng(point || [0, 0]);
        var map = container._leafletMap;
        [circle, centre].forEach(function (shape) {
          if (point && !map.hasLayer(shape)) shape.addTo(map);
          if (!point && map.hasLayer(shape)) shape.remove();
        });
      }
    }
    metres.addEventListener("input", function () { update(); changed(); });
    box.appendChild(container);
    box.appendChild(el("div", { className: "segment-map-tools" }, [labelled(t("metres"), metres), status]));
    update();
    mount(function () {
      var map = createMap(container, row);
      circle = L.circle([0, 0], Object.assign({ radius: 1 }, SHAPE));
      centre = L.circleMarker([0, 0], { radius: 4, color: SHAPE.color, weight: 2, fillOpacity: 1, interactive: false });
      map.on("click", function (event) {
        point = [event.latlng.lat, event.latlng.lng];
        update();
        changed();
      });
      update();
      if (point) map.fitBounds(circle.getBounds(), { padding: [24, 24], maxZoom: 16 });
    });
  }

  // --- value controls, one per value shape -----------------------------------------

  function stringsControl(row, box) {
    var suggestions = suggestionsFor(row.field);
    var listId = nextId("suggestions");
    var input = el("input", {
      type: "text", "aria-label": t("values"), placeholder: t("values_hint"), autocomplete: "off",
      list: suggestions.length ? listId : null, className: "segment-strings"
    });
    input.value = row.value ? displayStrings(row.field, row.value) : "";
    var datalist = el("datalist", { id: listId });
    // Suggest for the value being typed, after those already given.
    function suggest() {
      var text = input.value;
      var cut = text.lastIndexOf(",");
      var prefix = cut >= 0 ? text.slice(0, cut + 1) + " " : "";
      var typed = text.slice(cut + 1).trim().toLowerCase();
      var given = parseStrings(row.field, text.slice(0, cut + 1)) || [];
      var options = suggestions.filter(function (entry) {
        return given.indexOf(entry.value) < 0 && entry.label.toLowerCase().indexOf(typed) >= 0;
      }).slice(0, MAX_SUGGESTIONS);
      datalist.replaceChildren.apply(datalist, options.map(function (entry) {
        return el("option", { value: prefix + entry.label });
      }));
    }
    input.addEventListener("input", function () {
      row.value = parseStrings(row.field, input.value);
      suggest();
      changed();
    });
    input.addEventListener("focus", suggest);
    suggest();
    box.appendChild(input);
    if (suggestions.length) box.appendChild(datalist);
  }

  function choicesControl(row, box) {
    // A fieldset, not role="group": Pico draws role="group" as a bar of joined buttons.
    var group = el("fieldset", { className: "segment-choices" }, [
      el("legend", { className: "visually-hidden", text: t("value") })
    ]);
    var boxes = choicesFor(row.field).map(function (choice) {
      var id = nextId("choice");
      var checkbox = el("input", { type: "checkbox", id: id, value: String(choice[0]) });
      checkbox.checked = Boolean(row.value) && row.value.indexOf(choice[0]) >= 0;
      checkbox.addEventListener("change", function () {
        var picked = choicesFor(row.field).filter(function (_, i) { return boxes[i].checked; })
          .map(function (entry) { return entry[0]; });
        row.value = picked.length ? picked : undefined;
        changed();
      });
      group.appendChild(el("label", { "for": id }, [checkbox, String(choice[1])]));
      return checkbox;
    });
    box.appendChild(group);
  }

  function choiceControl(row, box) {
    box.appendChild(select(t("value"), choicesFor(row.field), row.value, function (value) {
      row.value = value === "" ? undefined : codeFrom(row.field, value);
      changed();
    }, t("choose")));
  }

  function consentControl(row, box) {
    var state = row.value ? { channel: row.value.channel, state: row.value.state } : { channel: "", state: "" };
    function update() {
      row.value = state.channel && state.state ? { channel: state.channel, state: state.state } : undefined;
      changed();
    }
    box.appendChild(select(t("channel"), choicesFor("channel"), state.channel, function (value) {
      state.channel = value;
      update();
    }, t("choose")));
    var states = CONSENT_STATES.map(function (name) { return [name, t("state_" + name)]; });
    box.appendChild(select(t("consent_state"), states, state.state, function (value) {
      state.state = value;
      update();
    }, t("choose")));
  }

  // Two bounds, either of which may be left empty: dates between, numbers between.
  function rangeControl(row, box, type, keys, labelKeys) {
    var current = isObject(row.value) ? row.value : {};
    var inputs = keys.map(function (key, index) {
      var input = el("input", { type: type, step: type === "number" ? "any" : null });
      if (current[key] !== undefined) input.value = String(current[key]);
      input.addEventListener("input", update);
      input.addEventListener("change", update);
      box.appendChild(labelled(t(labelKeys[index]), input));
      return input;
    });
    function update() {
      var value = {};
      keys.forEach(function (key, index) {
        var raw = inputs[index].value;
        if (raw === "") return;
        if (type === "number") {
          if (isFinite(Number(raw))) value[key] = Number(raw);
        } else {
          value[key] = raw;
        }
      });
      var next = Object.keys(value).length ? value : undefined;
      if (same(next, row.value)) return;
      row.value = next;
      changed();
    }
  }

  function dateRangeControl(row, box) {
    rangeControl(row, box, "date", ["from", "to"], ["from", "to"]);
  }

  function idControl(key, list) {
    return function (row, box) {
      box.appendChild(select(t(key), vocabulary[list] || [], row.value, function (value) {
        row.value = value === "" ? undefined : Number(value);
        changed();
      }, t("choose")));
    };
  }

  function customControl(row, box) {
    var fields = (vocabulary.custom_fields || []).map(function (field) { return [field.key, field.label]; });
    box.appendChild(select(t("custom_field"), fields, row.key, function (value) {
      var custom = customField(value);
      row.key = custom ? value : undefined;
      row.op = custom ? CUSTOM_OPS[custom.kind][0] : undefined;
      row.value = undefined;
      rerender(row);
    }, t("choose"), "segment-custom-key"));
    var custom = customField(row.key);
    if (!custom) return;
    var ops = (CUSTOM_OPS[custom.kind] || []).map(function (op) { return [op, t("op_" + op)]; });
    box.appendChild(select(t("operator"), ops, row.op, function (value) {
      row.op = value;
      row.value = undefined;
      rerender(row);
    }, undefined, "segment-op"));
    if (row.op === "is_set") return;
    if (row.op === "range") {
      rangeControl(row, box, custom.kind === "number" ? "number" : "date", ["min", "max"], ["min", "max"]);
      return;
    }
    if (custom.kind === "boolean") {
      box.appendChild(select(t("value"), [["true", t("yes")], ["false", t("no")]], row.value, function (value) {
        row.value = value === "" ? undefined : value === "true";
        changed();
      }, t("choose")));
      return;
    }
    if (custom.kind === "choice" || custom.kind === "multiple") {
      var choices = (custom.choices || []).map(function (choice) { return [choice, choice]; });
      box.appendChild(select(t("value"), choices, row.value, function (value) {
        row.value = value === "" ? undefined : value;
        changed();
      }, t("choose")));
      return;
    }
    var type = custom.kind === "number" ? "number" : custom.kind === "date" ? "date" : "text";
    var input = el("input", { type: type, "aria-label": t("value"), step: type === "number" ? "any" : null });
    if (row.value !== undefined) input.value = String(row.value);
    function update() {
      var raw = input.value;
      var value;
      if (type === "number") value = raw !== "" && isFinite(Number(raw)) ? Number(raw) : undefined;
      else if (type === "date") value = raw || undefined;
      else value = raw.trim() ? raw.trim() : undefined;
      if (same(value, row.value)) return;
      row.value = value;
      changed();
    }
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    box.appendChild(input);
  }

  var CONTROLS = {
    strings: stringsControl,
    choices: choicesControl,
    choice: choiceControl,
    consent: consentControl,
    date_range: dateRangeControl,
    polygon: polygonControl,
    circle: circleControl,
    custom: customControl,
    segment: idControl("segment", "segments"),
    mailing: idControl("mailing", "mailings"),
    form: idControl("form", "forms"),
    event: idControl("event", "events")
  };

  // --- rendering ------------------------------------------------------------------

  function destroy(row) {
    row.cleanup.forEach(function (callback) { callback(); });
    row.cleanup = [];
  }

  function fieldOptions(current) {
    return Object.keys(vocabulary.fields).filter(function (name) {
      // Offer "other information" and "in the segment" only when there is something to pick.
      if (name === current) return true;
      if (name === "custom") return (vocabulary.custom_fields || []).length > 0;
      if (name === "segment") return (vocabulary.segments || []).length > 0;
      if (name === "mailing") return (vocabulary.mailings || []).length > 0;
      if (name === "form") return (vocabulary.forms || []).length > 0;
      if (name === "event") return (vocabulary.events || []).length > 0;
      return true;
    }).map(function (name) { return [name, vocabulary.fields[name].label]; });
  }

  function renderRow(row, owner) {
    destroy(row);
    row.owner = owner;
    row.el = row.el || el("fieldset", { className: "segment-row" });
    var node = row.el;
    node.replaceChildren();
    row.legend = el("legend", { className: "visually-hidden" });
    node.appendChild(row.legend);
    var spec = vocabulary.fields[row.field];

    var excludeId = nextId("exclude");
    var exclude = el("input", { type: "checkbox", id: excludeId });
    exclude.checked = row.exclude;
    exclude.addEventListener("change", function () {
      row.exclude = exclude.checked;
      changed();
    });
    node.appendChild(el("label", { className: "segment-exclude", "for": excludeId }, [exclude, t("exclude")]));

    row.fieldSelect = select(t("field"), fieldOptions(row.field), row.field, function (value) {
      var next = vocabulary.fields[value];
      row.field = next ? value : "";
      row.op = next && value !== "custom" ? next.ops[0] : undefined;
      row.key = undefined;
      row.value = undefined;
      rerender(row);
    }, t("choose_field"), "segment-field");
    node.appendChild(row.fieldSelect);

    if (spec && row.field !== "custom" && spec.ops.length > 1) {
      var ops = spec.ops.map(function (op) { return [op, t("op_" + op)]; });
      node.appendChild(select(t("operator"), ops, row.op, function (value) {
        row.op = value;
        changed();
      }, undefined, "segment-op"));
    }

    if (spec && CONTROLS[spec.value]) {
      var wide = spec.value === "polygon" || spec.value === "circle";
      var box = el("div", { className: "segment-value" + (wide ? " segment-value-map" : "") });
      CONTROLS[spec.value](row, box);
      node.appendChild(box);
    }

    row.hint = el("small", { className: "segment-incomplete muted", text: t("incomplete") });
    node.appendChild(row.hint);
    row.removeButton = button("✕", "secondary outline segment-remove", function () {
      remove(row);
    }, { title: t("remove_condition") });
    node.appendChild(row.removeButton);
    return node;
  }

  // A row's field, custom field or operator changed: draw the row again, keeping the focus.
  function rerender(row) {
    var focused = row.el && row.el.contains(document.activeElement) ? document.activeElement : null;
    var selector = focused && focused.classList.length ? "." + focused.classList[0] : null;
    renderRow(row, row.owner);
    flushMounts();
    changed();
    if (focused && !document.body.contains(focused)) {
      (selector && row.el.querySelector(selector) || row.fieldSelect).focus();
    }
  }

  function remove(row) {
    var owner = row.owner;
    destroy(row);
    owner.items.splice(owner.items.indexOf(row), 1);
    row.el.remove();
    changed();
    owner.addButton.focus();
  }

  function addRow(owner) {
    var row = newRow();
    owner.items.push(row);
    owner.list.appendChild(renderRow(row, owner));
    flushMounts();
    changed();
    row.fieldSelect.focus();
  }

  function renderGroup(group) {
    group.el = el("fieldset", { className: "segment-group" });
    group.legend = el("legend", { className: "visually-hidden" });
    group.el.appendChild(group.legend);
    group.list = el("div", { className: "segment-items" });
    group.items.forEach(function (row) { group.list.appendChild(renderRow(row, group)); });
    group.addButton = button(t("add_to_group"), "secondary outline segment-add-to-group", function () {
      addRow(group);
    });
    var removeGroup = button(t("remove_group"), "secondary outline segment-remove-group", function () {
      group.items.forEach(destroy);
      model.items.splice(model.items.indexOf(group), 1);
      group.el.remove();
      changed();
      model.addButton.focus();
    });
    group.el.appendChild(el("p", { className: "segment-group-title", text: t("group") }));
    group.el.appendChild(group.list);
    group.el.appendChild(el("div", { className: "segment-actions" }, [group.addButton, removeGroup]));
    return group.el;
  }

  function destroyAll() {
    if (!model) return;
    model.items.forEach(function (item) {
      (item.kind === "group" ? item.items : [item]).forEach(destroy);
    });
  }

  function renderAll() {
    mounts = [];
    ui.replaceChildren();
    ui.hidden = false;
    ui.disabled = false;
    note.hidden = true;
    var matchId = nextId("match");
    var match = select(t("match_label"), [["all", t("match_all")], ["any", t("match_any")]], model.mode, function (value) {
      model.mode = value;
      changed();
    }, undefined, "segment-match");
    match.id = matchId;
    match.removeAttribute("aria-label");
    ui.appendChild(el("div", { className: "segment-top" }, [
      el("label", { "for": matchId, className: "visually-hidden", text: t("match_label") }), match
    ]));
    model.list = el("div", { className: "segment-items" });
    model.items.forEach(function (item) {
      model.list.appendChild(item.kind === "group" ? renderGroup(item) : renderRow(item, model));
    });
    model.empty = el("p", { className: "muted segment-empty", text: t("empty") });
    model.addButton = button(t("add_condition"), "secondary segment-add-condition", function () { addRow(model); });
    var addGroup = button(t("add_group"), "secondary outline segment-add-group", function () {
      var group = newGroup([]);
      model.items.push(group);
      model.list.appendChild(renderGroup(group));
      addRow(group);
    });
    ui.appendChild(model.list);
    ui.appendChild(model.empty);
    ui.appendChild(el("div", { className: "segment-actions" }, [model.addButton, addGroup]));
    flushMounts();
    refresh();
  }

  // The document cannot be shown: say so, and let it be edited as a document.
  function documentMode() {
    note.hidden = false;
    if (model) ui.disabled = true;
    else ui.hidden = true;
    panel.open = true;
  }

  function show(state) {
    destroyAll();
    model = state;
    renderAll();
  }

  // Typed by hand in the textarea: follow it when the builder can show it.
  function fromTextarea() {
    var parsed;
    try {
      parsed = JSON.parse(textarea.value);
    } catch (error) {
      documentMode();
      return;
    }
    var next = modelFrom(parsed);
    if (!next) {
      documentMode();
      return;
    }
    if (model && !ui.hidden && !ui.disabled && same(documentOf(model), documentOf(next))) return;
    show(next);
  }

  function init() {
    root = document.getElementById("segment-builder");
    var source = document.getElementById("segment-vocabulary");
    form = document.getElementById("segment-form");
    textarea = document.getElementById("segment-json");
    panel = document.getElementById("segment-json-panel");
    if (!form) return;
    // The form is `novalidate` so that htmx's counts are not stopped by the empty name
    // of a new segment; saving it still asks the browser to check the fields.
    form.addEventListener("submit", function (event) {
      if (!form.checkValidity()) {
        event.preventDefault();
        form.reportValidity();
      }
    });
    if (!root || !source || !textarea || !window.L) return;
    vocabulary = JSON.parse(source.textContent);
    labels = {};
    var template = document.getElementById("segment-builder-labels");
    if (template) {
      template.content.querySelectorAll("[data-key]").forEach(function (node) {
        labels[node.getAttribute("data-key")] = node.textContent.trim();
      });
    }
    note = el("div", { className: "message message-info segment-note", role: "status", hidden: true }, [
      el("p", { text: t("document_note") }),
      button(t("reset"), "secondary outline segment-reset", function () {
        show({ mode: "all", items: [] });
        changed();
      })
    ]);
    ui = el("fieldset", { className: "segment-builder-ui" });
    root.replaceChildren(note, ui);
    // Enter in a builder field must not submit (save) the form.
    root.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT") event.preventDefault();
    });
    var parsed;
    try {
      parsed = JSON.parse(textarea.value);
    } catch (error) {
      parsed = undefined;
    }
    var state = parsed === undefined ? null : modelFrom(parsed);
    if (state) {
      show(state);
      textarea.value = JSON.stringify(documentOf(model), null, 2);
    } else {
      documentMode();
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fromTextarea, 300);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
