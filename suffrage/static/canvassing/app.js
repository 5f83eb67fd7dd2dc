/* The volunteers' door-to-door app (phone first, works offline).

   Every tap becomes a record with its own id (crypto.randomUUID) kept in IndexedDB
   before anything else happens; records are sent to the server in batches when the
   network is there (on load, on the "online" event, after each tap, every minute
   while some wait, and with "Sync now"). The server answers, per record, accepted,
   already there (a retry) or refused with why: accepted ones are kept a few days
   without the person's details (to show the door's state), refused ones stay, with
   the reason, until they go through or the volunteer discards them. Nothing is
   dropped silently. The page also keeps a copy of itself and of its turf's
   data.json in the Cache API, and registers the service worker (sw.js) that serves
   them when offline.

   Configuration and translated strings come from the page: #canvass-config (JSON)
   and #canvass-strings (one span per key). */
(function () {
  "use strict";

  var configNode = document.getElementById("canvass-config");
  if (!configNode) return;
  var config = JSON.parse(configNode.textContent);
  var strings = {};
  var stringsNode = document.getElementById("canvass-strings");
  if (stringsNode) {
    stringsNode.content.querySelectorAll("[data-key]").forEach(function (node) {
      strings[node.getAttribute("data-key")] = node.textContent.trim();
    });
  }

  function t(key, values) {
    var text = strings[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  var OWNER = config.campaign + ":" + config.user; // records of another account on this phone are not sent
  var PAGES_CACHE = "suffrage-canvassing-pages";
  var REVISIT = ["not_home", "come_back"];
  var KEEP_SYNCED_MS = 3 * 24 * 3600 * 1000;
  var csrfToken = config.csrf;

  // --- The record store: IndexedDB, or memory when the browser refuses it -----------------

  var DB_NAME = "suffrage-canvassing";
  var STORE = "records";
  var memory = null; // {client_id: record} when IndexedDB is not available
  var dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          var store = request.result.createObjectStore(STORE, { keyPath: "client_id" });
          store.createIndex("owner", "owner");
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
        request.onblocked = function () { reject(new Error("IndexedDB blocked")); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    if (memory) return Promise.resolve(work(null));
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        // "strict": written to disk before the transaction completes (a phone that
        // restarts right after a tap keeps the record).
        var transaction = db.transaction(STORE, mode, { durability: "strict" });
        var store = transaction.objectStore(STORE);
        var request = work(store);
        var result;
        if (request) request.onsuccess = function () { result = request.result; };
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = transaction.onabort = function () { reject(transaction.error); };
      });
    }, function () {
      memory = {};
      showProblem(t("storage_error"));
      return withStore(mode, work);
    });
  }

  function allRecords() {
    return withStore("readonly", function (store) {
      if (!store) return null;
      return store.index("owner").getAll(OWNER);
    }).then(function (found) {
      if (memory) return Object.keys(memory).map(function (id) { return memory[id]; });
      return found || [];
    });
  }

  function putRecords(records) {
    return withStore("readwrite", function (store) {
      records.forEach(function (record) {
        if (store) store.put(record);
        else memory[record.client_id] = record;
      });
    });
  }

  function deleteRecords(ids) {
    return withStore("readwrite", function (store) {
      ids.forEach(function (id) {
        if (store) store.delete(id);
        else delete memory[id];
      });
    });
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // --- Status bar ----------------------------------------------------------------------------

  var countNode = document.getElementById("sync-count");
  var stateNode = document.getElementById("sync-state");
  var barNode = document.getElementById("sync-bar");
  var problemNode = document.getElementById("sync-problem");
  var syncButton = document.getElementById("sync-now");
  var state = navigator.onLine === false ? "offline" : "idle";
  var lastSync = null;

  function showProblem(text, link) {
    if (!problemNode) return;
    problemNode.textContent = text ? text + " " : "";
    if (link) {
      var anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.text;
      problemNode.appendChild(anchor);
    }
    problemNode.hidden = !text;
  }

  function setState(next) {
    state = next;
    var text = "";
    if (next === "offline") text = t("offline");
    else if (next === "syncing") text = t("syncing");
    else if (next === "failed") text = t("sync_failed");
    else if (lastSync) text = t("synced_at", { time: lastSync.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) });
    stateNode.textContent = text;
    barNode.setAttribute("data-state", next);
    syncButton.disabled = next === "syncing";
  }

  function refresh() {
    return allRecords().then(function (records) {
      var unsynced = records.filter(function (r) { return r.status !== "synced"; });
      var refused = unsynced.filter(function (r) { return r.status === "rejected"; });
      var n = unsynced.length;
      var text = n === 0 ? t("all_synced") : n === 1 ? t("waiting_one") : t("waiting", { n: n });
      if (refused.length) text += " " + t("refused_n", { n: refused.length });
      countNode.textContent = text;
      countNode.setAttribute("data-count", String(n));
      barNode.classList.toggle("has-waiting", n > 0);
      renderRefused(refused);
      if (turfPage) turfPage.show(records);
      return records;
    });
  }

  function renderRefused(refused) {
    var section = document.getElementById("sync-rejected");
    var list = document.getElementById("sync-rejected-list");
    if (!section || !list) return;
    list.textContent = "";
    refused.sort(byTime).forEach(function (record) {
      var item = document.createElement("li");
      item.className = "rejected-record";
      item.setAttribute("data-client-id", record.client_id);
      var what = document.createElement("p");
      var label = turfPage ? turfPage.doorLabel(record.door_id) : "";
      what.textContent = (label || t("door") + " #" + record.door_id) + " · " + (config.outcomes[record.outcome] || record.outcome)
        + " · " + new Date(record.recorded_at).toLocaleString();
      var why = document.createElement("p");
      why.className = "rejected-reason";
      why.textContent = record.reason + (record.field ? " (" + t("field") + " " + record.field + ")" : "");
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "secondary outline";
      discard.textContent = t("discard");
      discard.addEventListener("click", function () {
        if (window.confirm(t("discard_confirm"))) deleteRecords([record.client_id]).then(refresh);
      });
      item.append(what, why, discard);
      list.appendChild(item);
    });
    section.hidden = refused.length === 0;
  }

  function byTime(a, b) {
    return a.recorded_at < b.recorded_at ? -1 : a.recorded_at > b.recorded_at ? 1 : 0;
  }

  // --- Sync ----------------------------------------------------------------------------------

  var syncing = false;
  var again = false;
  var timer = null;

  function SyncProblem(kind, detail) {
    this.kind = kind;
    this.detail = detail;
  }

  function scheduleSync(delay) {
    clearTimeout(timer);
    timer = setTimeout(sync, delay === undefined ? 1500 : delay);
  }

  function sync() {
    if (syncing) { again = true; return Promise.resolve(); }
    if (navigator.onLine === false) { setState("offline"); return refresh(); }
    syncing = true;
    setState("syncing");
    return allRecords()
      .then(function (records) {
        var pending = records.filter(function (r) { return r.status !== "synced"; }).sort(byTime);
        var batches = [];
        for (var i = 0; i < pending.length; i += config.batch) batches.push(pending.slice(i, i + config.batch));
        return batches.reduce(function (chain, batch) {
          return chain.then(function () { return send(batch, false); });
        }, Promise.resolve());
      })
      .then(function () {
        lastSync = new Date();
        showProblem("");
        setState("idle");
      }, function (problem) {
        if (problem && problem.kind === "signed_out") {
          showProblem(t("signed_out"), { href: config.login_url + "?next=" + encodeURIComponent(location.pathname), text: t("sign_in") });
          setState("idle");
        } else if (problem && problem.kind === "server") {
          showProblem(t("server_error") + " " + (problem.detail || ""));
          setState("idle");
        } else {
          setState(navigator.onLine === false ? "offline" : "failed");
        }
      })
      .then(function () {
        syncing = false;
        return refresh();
      })
      .then(function () {
        if (again) { again = false; scheduleSync(0); }
      });
  }

  function wire(record) {
    return {
      client_id: record.client_id,
      door_id: record.door_id,
      outcome: record.outcome,
      recorded_at: record.recorded_at,
      answers: record.answers || {},
      note: record.note || "",
      contact: record.contact || null,
      support_level: record.support_level === undefined ? null : record.support_level
    };
  }

  function send(batch, retried) {
    return fetch(config.sync_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify({ records: batch.map(wire) })
    }).then(function (response) {
      if (response.redirected) throw new SyncProblem("signed_out");
      if (response.status === 403) {
        // The CSRF token may be stale (signed in again since this page was kept): fetch a fresh one once.
        if (retried) throw new SyncProblem("signed_out");
        return freshToken().then(function () { return send(batch, true); });
      }
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) throw new SyncProblem("failed");
      return response.json().then(function (body) {
        if (response.status === 409) throw new SyncProblem("failed");
        if (!response.ok) throw new SyncProblem("server", body.error);
        return settle(batch, body);
      });
    }, function () {
      throw new SyncProblem("failed");
    });
  }

  function freshToken() {
    return fetch(config.home_url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) throw new SyncProblem("signed_out");
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var node = page.getElementById("canvass-config");
        if (!node) throw new SyncProblem("signed_out");
        csrfToken = JSON.parse(node.textContent).csrf;
      });
  }

  function settle(batch, body) {
    var done = {};
    (body.accepted || []).concat(body.duplicates || []).forEach(function (id) { done[id] = true; });
    var refused = {};
    (body.rejected || []).forEach(function (rejection) {
      if (rejection.client_id) refused[rejection.client_id] = rejection;
    });
    var now = new Date().toISOString();
    var updates = [];
    batch.forEach(function (record) {
      if (done[record.client_id]) {
        // On the server now: keep only what shows the door's state, not the person's details.
        updates.push({
          client_id: record.client_id, owner: record.owner, turf_id: record.turf_id, door_id: record.door_id,
          outcome: record.outcome, recorded_at: record.recorded_at, status: "synced", synced_at: now
        });
      } else if (refused[record.client_id]) {
        var rejection = refused[record.client_id];
        updates.push(Object.assign({}, record, { status: "rejected", reason: rejection.reason, field: rejection.field }));
      }
    });
    return putRecords(updates);
  }

  function prune() {
    var limit = new Date(Date.now() - KEEP_SYNCED_MS).toISOString();
    return allRecords().then(function (records) {
      var old = records.filter(function (r) { return r.status === "synced" && r.synced_at < limit; });
      if (old.length) return deleteRecords(old.map(function (r) { return r.client_id; }));
    });
  }

  function record(fields) {
    var entry = Object.assign({
      client_id: newId(),
      owner: OWNER,
      turf_id: config.turf_id || null,
      recorded_at: new Date().toISOString(),
      answers: {},
      note: "",
      contact: null,
      support_level: null,
      status: "waiting"
    }, fields);
    return putRecords([entry]).then(function () {
      scheduleSync();
      return refresh();
    });
  }

  // --- Working offline: the service worker and the copies it serves ------------------------------

  function keep(url) {
    if (!window.caches) return Promise.resolve(false);
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(url, { ignoreVary: true }).then(function (kept) {
        if (kept) return true;
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok || response.redirected) return false;
          return cache.put(url, response).then(function () { return true; });
        });
      });
    }).catch(function () { return false; });
  }

  function prepareOffline() {
    if (!("serviceWorker" in navigator) || !window.caches) return;
    navigator.serviceWorker.register(config.sw_url, { scope: config.scope }).catch(function () {});
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
    // Ready once a worker is active: it serves the next load of this page, even when
    // this one started before it was (a page being loaded is not always claimed).
    navigator.serviceWorker.ready
      .then(function () {
        var urls = [location.pathname];
        if (config.data_url) urls.push(config.data_url);
        return Promise.all(urls.map(keep));
      })
      .then(function (kept) {
        if (kept.indexOf(false) !== -1) return;
        document.body.setAttribute("data-offline-ready", "true");
        var note = document.getElementById("offline-ready");
        if (note) { note.textContent = t("offline_ready"); note.hidden = false; }
      });
  }

  // --- The turf page -------------------------------------------------------------------------------

  var turfPage = null;
  if (config.page === "turf") turfPage = TurfPage();

  function TurfPage() {
    var list = document.getElementById("door-list");
    var template = document.getElementById("door-template");
    var loading = document.getElementById("doors-loading");
    var progress = document.getElementById("turf-progress");
    var data = null;
    var doorsById = {};
    var itemsById = {};
    var latestLocal = {};
    var map = null;
    var markers = {};

    function load() {
      return fetch(config.data_url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error("HTTP " + response.status);
          if (window.caches) {
            var copy = response.clone();
            caches.open(PAGES_CACHE).then(function (cache) { return cache.put(config.data_url, copy); }).catch(function () {});
          }
          return response.json().then(function (body) {
            if (body.csrf) csrfToken = body.csrf;
            return body;
          });
        })
        .catch(function () {
          if (!window.caches) throw new Error("not kept");
          return caches.match(config.data_url, { ignoreVary: true }).then(function (kept) {
            if (!kept) throw new Error("not kept");
            return kept.json();
          });
        });
    }

    function meta(door) {
      var parts = [];
      if (door.floors) parts.push(t("floors", { floors: door.floors }));
      if (door.dwellings > 1) parts.push(t("dwellings", { n: door.dwellings }));
      return parts.join(" · ");
    }

    function render() {
      list.textContent = "";
      if (!data.doors.length) {
        var empty = document.createElement("li");
        empty.textContent = t("no_doors");
        list.appendChild(empty);
      }
      data.doors.forEach(function (door, index) {
        doorsById[door.id] = door;
        door.number = index + 1;
        var item = template.content.firstElementChild.cloneNode(true);
        item.setAttribute("data-door-id", door.id);
        item.id = "door-" + door.id;
        item.querySelector(".door-number").textContent = door.number;
        item.querySelector(".door-label").textContent = door.label;
        item.querySelector(".door-meta").textContent = meta(door);
        item.querySelector(".door-outcomes").setAttribute("aria-label", door.label);
        itemsById[door.id] = item;
        list.appendChild(item);
      });
    }

    // The door's state: its newest record on this phone, or what the server last knew.
    function stateOf(door) {
      var local = latestLocal[door.id];
      if (local && (!door.last_at || new Date(local.recorded_at) >= new Date(door.last_at))) {
        return { outcome: local.outcome, at: local.recorded_at, record: local };
      }
      return door.last_outcome ? { outcome: door.last_outcome, at: door.last_at, record: null } : null;
    }

    function show(records) {
      if (!data) return;
      latestLocal = {};
      records.forEach(function (r) {
        if (r.turf_id !== config.turf_id && !doorsById[r.door_id]) return;
        var known = latestLocal[r.door_id];
        if (!known || r.recorded_at > known.recorded_at) latestLocal[r.door_id] = r;
      });
      var done = 0;
      data.doors.forEach(function (door) {
        var current = stateOf(door);
        var item = itemsById[door.id];
        var line = item.querySelector(".door-state");
        item.classList.remove("door-done", "door-revisit", "door-dnc", "door-waiting", "door-refused");
        item.removeAttribute("data-outcome");
        if (!current) {
          line.textContent = t("not_yet");
        } else {
          item.setAttribute("data-outcome", current.outcome);
          var text = config.outcomes[current.outcome] || current.outcome;
          text += " · " + new Date(current.at).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
          if (current.record && current.record.status === "waiting") { text += " · " + t("waiting_mark"); item.classList.add("door-waiting"); }
          if (current.record && current.record.status === "rejected") { text += " · " + t("refused_mark"); item.classList.add("door-refused"); }
          line.textContent = text;
          if (current.outcome === "do_not_contact") { item.classList.add("door-dnc"); line.textContent = t("do_not_knock") + " · " + text; }
          if (REVISIT.indexOf(current.outcome) !== -1) item.classList.add("door-revisit");
          else { item.classList.add("door-done"); done += 1; }
        }
        var undo = item.querySelector(".door-undo");
        undo.hidden = !(current && current.record && current.record.status === "waiting");
        paintMarker(door, current);
      });
      progress.textContent = t("doors_done", { done: done, total: data.doors.length });
    }

    function doorLabel(doorId) {
      var door = doorsById[doorId];
      return door ? door.number + ". " + door.label : "";
    }

    // One tap: the outcome is recorded at once; "Talked" opens the conversation.
    list.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      var item = button.closest(".door");
      var doorId = Number(item.getAttribute("data-door-id"));
      if (button.classList.contains("door-undo")) {
        var local = latestLocal[doorId];
        if (local && local.status === "waiting") deleteRecords([local.client_id]).then(refresh);
        return;
      }
      var outcome = button.getAttribute("data-outcome");
      if (!outcome) return;
      if (outcome === "opened") talk.open(doorsById[doorId]);
      else record({ door_id: doorId, outcome: outcome });
    });

    // --- Map (Leaflet), drawn the first time it is shown ---
    var listButton = document.getElementById("show-list");
    var mapButton = document.getElementById("show-map");
    var mapNode = document.getElementById("door-map");
    var mapEmpty = document.getElementById("map-empty");

    function showView(which) {
      var onMap = which === "map";
      list.hidden = onMap;
      mapNode.hidden = !onMap;
      listButton.setAttribute("aria-pressed", String(!onMap));
      mapButton.setAttribute("aria-pressed", String(onMap));
      listButton.classList.toggle("secondary", onMap);
      mapButton.classList.toggle("secondary", !onMap);
      if (onMap) drawMap();
      else mapEmpty.hidden = true;
    }
    listButton.addEventListener("click", function () { showView("list"); });
    mapButton.addEventListener("click", function () { showView("map"); });

    var COLOURS = { none: "#6b7280", done: "#15803d", revisit: "#d97706", dnc: "#b91c1c" };

    function colourOf(current) {
      if (!current) return COLOURS.none;
      if (current.outcome === "do_not_contact") return COLOURS.dnc;
      return REVISIT.indexOf(current.outcome) !== -1 ? COLOURS.revisit : COLOURS.done;
    }

    function paintMarker(door, current) {
      var marker = markers[door.id];
      if (marker) marker.setStyle({ color: colourOf(current), fillColor: colourOf(current) });
    }

    function drawMap() {
      var placed = data ? data.doors.filter(function (d) { return d.lat !== null && d.lon !== null; }) : [];
      mapEmpty.hidden = placed.length > 0;
      if (!placed.length || !window.L) return;
      if (map) { map.invalidateSize(); return; }
      map = L.map(mapNode, { attributionControl: false });
      if (config.tiles) L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);
      var bounds = [];
      placed.forEach(function (door) {
        var current = stateOf(door);
        var marker = L.circleMarker([door.lat, door.lon], {
          radius: 10, weight: 2, color: colourOf(current), fillColor: colourOf(current), fillOpacity: 0.7
        }).addTo(map);
        var popup = document.createElement("div");
        var title = document.createElement("strong");
        title.textContent = door.number + ". " + door.label;
        var go = document.createElement("button");
        go.type = "button";
        go.className = "map-go";
        go.textContent = t("door") + " " + door.number;
        go.addEventListener("click", function () {
          showView("list");
          itemsById[door.id].scrollIntoView({ block: "center" });
          itemsById[door.id].querySelector("button[data-outcome]").focus();
        });
        popup.append(title, document.createElement("br"), go);
        marker.bindPopup(popup);
        markers[door.id] = marker;
        bounds.push([door.lat, door.lon]);
      });
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 18 });
    }

    // --- The conversation panel ---
    var talk = Talk();

    function Talk() {
      var dialog = document.getElementById("talk");
      var form = document.getElementById("talk-form");
      var door = null;
      var field = function (id) { return document.getElementById(id); };
      var dnc = field("talk-dnc");
      var consentBoxes = ["email", "sms", "phone"].map(function (channel) { return field("talk-consent-" + channel); });
      var support = field("talk-support");

      function error(id, text) {
        var node = field(id);
        node.textContent = text || "";
        node.hidden = !text;
      }

      function questionsInto(container) {
        container.textContent = "";
        data.questions.forEach(function (question) {
          var box = document.createElement("div");
          box.className = "question";
          box.setAttribute("data-question-id", question.id);
          box.setAttribute("data-kind", question.kind);
          var title = document.createElement("p");
          title.className = "question-text";
          title.id = "question-" + question.id;
          title.textContent = question.text;
          box.appendChild(title);
          var name = "q-" + question.id;
          if (question.kind === "text") {
            var area = document.createElement("textarea");
            area.name = name;
            area.rows = 2;
            area.maxLength = 1000;
            area.setAttribute("aria-labelledby", title.id);
            box.appendChild(area);
          } else {
            var options = question.kind === "scale" ? [1, 2, 3, 4, 5] : question.choices;
            var group = document.createElement("div");
            group.className = question.kind === "scale" ? "choices scale" : "choices";
            group.setAttribute("role", "group");
            group.setAttribute("aria-labelledby", title.id);
            options.forEach(function (choice) {
              var label = document.createElement("label");
              var input = document.createElement("input");
              input.type = question.kind === "multiple" ? "checkbox" : "radio";
              input.name = name;
              input.value = String(choice);
              label.append(input, " " + choice);
              group.appendChild(label);
            });
            if (question.kind === "scale") {
              var hint = document.createElement("small");
              hint.className = "muted";
              hint.textContent = t("scale_label");
              box.appendChild(hint);
            }
            box.appendChild(group);
          }
          container.appendChild(box);
        });
      }

      function answers() {
        var found = {};
        data.questions.forEach(function (question) {
          var name = "q-" + question.id;
          var value;
          if (question.kind === "text") {
            value = form.querySelector("[name='" + name + "']").value.trim();
          } else if (question.kind === "multiple") {
            value = Array.prototype.map.call(form.querySelectorAll("[name='" + name + "']:checked"), function (i) { return i.value; });
          } else {
            var checked = form.querySelector("[name='" + name + "']:checked");
            value = checked ? (question.kind === "scale" ? Number(checked.value) : checked.value) : "";
          }
          if (value !== "" && !(Array.isArray(value) && !value.length)) found[String(question.id)] = value;
        });
        return found;
      }

      function followDnc() {
        var off = dnc.checked;
        consentBoxes.forEach(function (box) { if (box) { box.disabled = off; if (off) box.checked = false; } });
        support.disabled = off;
        if (off) support.value = "";
        error("talk-consent-error", off ? t("dnc_hint") : "");
      }
      dnc.addEventListener("change", followDnc);

      function open(which) {
        door = which;
        form.reset();
        ["talk-email-error", "talk-phone-error", "talk-consent-error", "talk-support-error"].forEach(function (id) { error(id, ""); });
        followDnc();
        field("talk-door").textContent = door.number + ". " + door.label;
        var scriptBox = field("talk-script-box");
        field("talk-script").innerHTML = data.script_html; // rendered and escaped by the server
        scriptBox.hidden = !data.script_html;
        var questions = field("talk-questions");
        questionsInto(field("talk-questions-list"));
        questions.hidden = !data.questions.length;
        if (dialog.showModal) dialog.showModal();
        else dialog.setAttribute("open", "");
        dialog.scrollTop = 0;
      }

      function close() {
        if (dialog.close) dialog.close();
        else dialog.removeAttribute("open");
      }

      function contact() {
        var values = {
          first_names: field("talk-first-names").value.trim(),
          last_name: field("talk-last-name").value.trim(),
          email: field("talk-email").value.trim(),
          phone: field("talk-phone").value.trim(),
          consent_email: field("talk-consent-email").checked,
          consent_sms: field("talk-consent-sms").checked,
          consent_phone: field("talk-consent-phone").checked
        };
        var any = values.first_names || values.last_name || values.email || values.phone
          || values.consent_email || values.consent_sms || values.consent_phone;
        return any ? values : null;
      }

      function check(details, level) {
        var ok = true;
        var emailInput = field("talk-email");
        var badEmail = details && details.email && (!emailInput.checkValidity() || details.email.indexOf("@") < 1);
        error("talk-email-error", badEmail ? t("bad_email") : "");
        var badPhone = details && details.phone && !/^\+?[0-9 ().\-]{6,20}$/.test(details.phone);
        error("talk-phone-error", badPhone ? t("bad_phone") : "");
        var missing = details && ((details.consent_email && !details.email)
          || ((details.consent_sms || details.consent_phone) && !details.phone));
        if (!dnc.checked) error("talk-consent-error", missing ? t("consent_needs") : "");
        var lonely = level !== null && !(details && (details.first_names || details.last_name || details.email || details.phone));
        error("talk-support-error", lonely ? t("support_needs") : "");
        if (badEmail || badPhone || missing || lonely) ok = false;
        return ok;
      }

      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var details = contact();
        var level = support.value ? Number(support.value) : null;
        if (!check(details, level)) {
          var shown = form.querySelector(".field-error:not([hidden])");
          if (shown) shown.scrollIntoView({ block: "center" });
          return;
        }
        var entry = {
          door_id: door.id,
          outcome: dnc.checked ? "do_not_contact" : "opened",
          answers: answers(),
          note: field("talk-note").value.trim().slice(0, 500),
          contact: details,
          support_level: dnc.checked ? null : level
        };
        close();
        record(entry);
      });
      field("talk-cancel").addEventListener("click", close);

      return { open: open };
    }

    load().then(function (body) {
      data = body;
      loading.hidden = true;
      render();
      return refresh();
    }, function () {
      loading.removeAttribute("aria-busy");
      loading.textContent = t("not_saved");
    });

    return { show: show, doorLabel: doorLabel };
  }

  // --- Start ------------------------------------------------------------------------------------

  syncButton.addEventListener("click", function () { sync(); });
  window.addEventListener("online", function () { setState("idle"); sync(); });
  window.addEventListener("offline", function () { setState("offline"); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") sync();
  });
  setInterval(function () {
    if (countNode.getAttribute("data-count") !== "0") sync();
  }, 60 * 1000);

  setState(state);
  prune().then(refresh).then(function () { return sync(); });
  prepareOffline();
})();
