/* The SMS composer's live counter: characters, parts, encoding and cost of a text.

   Same rules as suffrage/texting/gsm.py (3GPP TS 23.038; tests/e2e/test_sms_counter.py
   checks that both agree): a text made only of the GSM 7-bit alphabet costs one septet
   per character (two for the extension table), 160 in one SMS, else parts of 153; any
   other character turns the whole text into UCS-2, 70 UTF-16 code units in one SMS,
   else parts of 67. A character is never cut across two parts.

   Markup (no inline script: the CSP forbids them):
     <textarea data-sms-counter="ID" [data-sms-suffix=" STOP au 36111"]
               [data-sms-price="0.045"] [data-sms-recipients="1200"]>
     <output id="ID" data-label-gsm="…" data-label-ucs2="…" data-label-parts="…"
             data-label-warning="…" data-label-cost="…">
   The labels are written (and translated) by the server, with placeholders {chars}
   (septets or code units, suffix included), {remaining}, {parts}, {per_part},
   {culprits} (space-separated; invisible ones as "U+202F") and {cost} (price × parts ×
   recipients, formatted for the page's lang); this file shows no text of its own. A
   missing label hides its line. Each line is a <span data-sms="count|parts|warning|cost">,
   and the output carries data-encoding and data-parts for styling. */
(function () {
  "use strict";

  // TS 23.038 §6.2.1, basic table in code order (0x1B, the escape, sits between Ξ and Æ).
  var GSM_BASIC =
    "@£$¥èéùìòÇ\nØø\rÅå" +
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
    " !\"#¤%&'()*+,-./" +
    "0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNO" +
    "PQRSTUVWXYZÄÖÑÜ§" +
    "¿abcdefghijklmno" +
    "pqrstuvwxyzäöñüà";
  // TS 23.038 §6.2.1.1, the extension table: escape + code, two septets each.
  var GSM_EXTENSION = "\f^{}\\[~]|€";

  var GSM = { name: "GSM-7", single: 160, part: 153 };
  var UCS2 = { name: "UCS-2", single: 70, part: 67 };

  function isGsm(character) {
    return GSM_BASIC.indexOf(character) !== -1 || GSM_EXTENSION.indexOf(character) !== -1;
  }

  // Iterating a string yields code points: a surrogate pair (an emoji) is one
  // character of two code units, which must stay in the same part.
  function characters(text) {
    return Array.from(text);
  }

  function culpritsOf(text) {
    var seen = {};
    characters(text).forEach(function (character) {
      if (!isGsm(character)) seen[character] = true;
    });
    // Sorted by code point, as Python sorts strings (JS's default compares code units).
    return Object.keys(seen).sort(function (a, b) {
      return a.codePointAt(0) - b.codePointAt(0);
    });
  }

  function widths(text, encoding) {
    return characters(text).map(function (character) {
      if (encoding === GSM) return GSM_EXTENSION.indexOf(character) !== -1 ? 2 : 1;
      return character.length; // UTF-16 code units: 2 for a surrogate pair
    });
  }

  // Greedy filling: a character that does not fit opens the next part.
  function fillParts(characterWidths, part) {
    var parts = 1;
    var fill = 0;
    characterWidths.forEach(function (width) {
      if (fill + width > part) {
        parts += 1;
        fill = 0;
      }
      fill += width;
    });
    return { parts: parts, fill: fill };
  }

  function smsLength(text) {
    var culprits = culpritsOf(text);
    var encoding = culprits.length ? UCS2 : GSM;
    var characterWidths = widths(text, encoding);
    var units = characterWidths.reduce(function (sum, width) { return sum + width; }, 0);
    var result = { encoding: encoding.name, units: units, culprits: culprits };
    if (units <= encoding.single) {
      result.parts = units ? 1 : 0;
      result.per_part = encoding.single;
      result.remaining = encoding.single - units;
    } else {
      var filled = fillParts(characterWidths, encoding.part);
      result.parts = filled.parts;
      result.per_part = encoding.part;
      result.remaining = encoding.part - filled.fill;
    }
    return result;
  }

  // Prices are decimal strings ("0.045"): cost = price × parts × recipients, computed
  // in millionths of the currency unit so that 0.1 × 3 is not 0.30000000000000004.
  var MICRO = 1000000;

  function micros(decimal) {
    // A comma too: a price rendered by a French-localized template reads "0,045".
    var normalized = (decimal || "").trim().replace(",", ".");
    if (!/^\d+(\.\d+)?$/.test(normalized)) return null;
    return Math.round(parseFloat(normalized) * MICRO);
  }

  function estimatedCost(textarea, parts) {
    var price = micros(textarea.getAttribute("data-sms-price"));
    var recipients = parseInt(textarea.getAttribute("data-sms-recipients"), 10);
    if (price === null || isNaN(recipients)) return null;
    var lang = document.documentElement.lang || undefined;
    return ((price * parts * recipients) / MICRO).toLocaleString(lang, {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
  }

  // A no-break space, a tab or a lone accent would be invisible in the warning:
  // those are named by their code point instead ("U+202F").
  var INVISIBLE = /^[\s\p{Cc}\p{Cf}\p{M}]$/u;

  function shown(character) {
    if (!INVISIBLE.test(character)) return character;
    return "U+" + character.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
  }

  function fill(label, values) {
    return Object.keys(values).reduce(function (text, name) {
      return text.split("{" + name + "}").join(String(values[name]));
    }, label);
  }

  function line(output, kind, label, values) {
    if (label === null) return;
    var span = document.createElement("span");
    span.setAttribute("data-sms", kind);
    span.textContent = fill(label, values); // text, never HTML: culprits come from the author's text
    output.appendChild(span);
  }

  function render(textarea, output) {
    var length = smsLength(textarea.value + (textarea.getAttribute("data-sms-suffix") || ""));
    var cost = estimatedCost(textarea, length.parts);
    var values = {
      chars: length.units,
      remaining: length.remaining,
      parts: length.parts,
      per_part: length.per_part,
      culprits: length.culprits.map(shown).join(" "),
      cost: cost === null ? "" : cost,
    };
    var ucs2 = length.encoding === UCS2.name;
    output.textContent = "";
    line(output, "count", output.getAttribute(ucs2 ? "data-label-ucs2" : "data-label-gsm"), values);
    line(output, "parts", output.getAttribute("data-label-parts"), values);
    if (ucs2) line(output, "warning", output.getAttribute("data-label-warning"), values);
    if (cost !== null) line(output, "cost", output.getAttribute("data-label-cost"), values);
    output.setAttribute("data-encoding", length.encoding);
    output.setAttribute("data-parts", String(length.parts));
  }

  function attach(textarea) {
    var output = document.getElementById(textarea.getAttribute("data-sms-counter"));
    if (!output) return;
    var update = function () { render(textarea, output); };
    textarea.addEventListener("input", update);
    update(); // a form shown again after a validation error already holds a text
  }

  function attachAll() {
    document.querySelectorAll("textarea[data-sms-counter]").forEach(attach);
  }

  window.suffrageSmsLength = smsLength;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", attachAll);
  } else {
    attachAll(); // loaded late (async, or added by a test): the DOM is already there
  }
})();
