/* The post composer's live counters: how long the post is on each account, counted
   the network's way, beside its limit.

   Same rules as suffrage/social/limits.py and the clients it uses (http.graphemes,
   mastodon.mastodon_length, bluesky.bluesky_length); tests/e2e/test_social_composer.py
   checks that both count alike:
   - Mastodon: grapheme clusters, every http(s) address 23, a remote mention
     ("@alice@mastodon.social") its username only;
   - Bluesky: grapheme clusters, and at most 3,000 bytes of UTF-8;
   - Facebook: characters (code points).
   What is counted is the text as published: the account's own version, or else the
   post's text, with the link on its last line unless the text has it already.

   Markup (no inline script: the CSP forbids them):
     <form data-social-composer>
       <textarea data-social-text>                   the post's text
       <select data-social-target>                   each page's option: data-url, its tracked
                                                     address without the network ("…?via=post-<code>-")
       <input data-social-url>                       an address, when no page is chosen
       <textarea data-social-version="ID">           an account's own text (blank: the post's)
       <output data-social-counter="ID" data-network="mastodon" data-limit="500"
               [data-max-bytes="3000"] data-label="…" data-label-over="…" data-label-bytes="…">
   Labels are written (and translated) by the server with {count}, {limit}, {over},
   {bytes} and {max_bytes}; this file shows no text of its own. */
(function () {
  "use strict";

  // Python's whitespace (str.isspace, and \s of its re module), which JavaScript's \s
  // and trim() do not quite match (\x1c-\x1f and \x85 in, \ufeff out).
  var WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var STRIP = new RegExp("^[" + WS + "]+|[" + WS + "]+$", "gu");
  var URL_SOURCE = "https?://[^" + WS + "<>\"]+";
  var TRAILING = ".,;:!?…'\"’”»)]}";
  // Python's \w on text: letters, digits and the underscore, of any script.
  var WORD = "[\\p{L}\\p{N}_]";
  var MENTION_SOURCE =
    "(?<![\\p{L}\\p{N}_/@=])@(" + WORD + "+(?:[.\\-]+" + WORD + "+)*)@[\\p{L}\\p{N}_.\\-]+" + WORD;
  var URL_LENGTH = 23;
  var MARK = /^\p{M}$/u;

  function strip(text) {
    return text.replace(STRIP, "");
  }

  function count(text, character) {
    return text.split(character).length - 1;
  }

  function codePoints(text) {
    return Array.from(text);
  }

  // Each http(s) address: {start, end} in the string, closing punctuation left out
  // (a final ")" stays when the address opened one).
  function urlSpans(text) {
    var spans = [];
    var pattern = new RegExp(URL_SOURCE, "giu");
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var url = match[0];
      while (url && TRAILING.indexOf(url[url.length - 1]) !== -1) {
        if (url[url.length - 1] === ")" && count(url, "(") >= count(url, ")")) break;
        url = url.slice(0, -1);
      }
      var rest = url.indexOf("://") === -1 ? "" : url.slice(url.indexOf("://") + 3);
      if (codePoints(url).length <= "https://".length || !rest) continue;
      spans.push({ start: match.index, end: match.index + url.length });
    }
    return spans;
  }

  function extendsCluster(code, character) {
    return (
      MARK.test(character) ||
      (code >= 0xfe00 && code <= 0xfe0f) || // variation selectors
      (code >= 0xe0100 && code <= 0xe01ef) ||
      (code >= 0x1f3fb && code <= 0x1f3ff) || // skin tones
      (code >= 0xe0020 && code <= 0xe007f) || // tags (subdivision flags)
      (code >= 0x1160 && code <= 0x11ff) || // Hangul vowels and final consonants
      code === 0x200d || // zero width joiner
      code === 0x034f // combining grapheme joiner
    );
  }

  // http.graphemes: UAX #29 approximated the same way, for the same counts.
  function graphemes(text) {
    var total = 0;
    var afterJoiner = false;
    var pendingFlag = false;
    var previous = "";
    codePoints(text).forEach(function (character) {
      var code = character.codePointAt(0);
      var regional = code >= 0x1f1e6 && code <= 0x1f1ff;
      var joined =
        total > 0 &&
        (afterJoiner ||
          extendsCluster(code, character) ||
          (previous === "\r" && character === "\n") ||
          (regional && pendingFlag));
      if (!joined) total += 1;
      pendingFlag = regional && !(joined && pendingFlag);
      afterJoiner = code === 0x200d;
      previous = character;
    });
    return total;
  }

  function mastodonLength(text) {
    var mention = new RegExp(MENTION_SOURCE, "giu");
    var countable = [];
    var last = 0;
    urlSpans(text).forEach(function (span) {
      countable.push(text.slice(last, span.start).replace(mention, "@$1"));
      countable.push("x".repeat(URL_LENGTH));
      last = span.end;
    });
    countable.push(text.slice(last).replace(mention, "@$1"));
    return graphemes(countable.join(""));
  }

  var COUNTERS = {
    mastodon: mastodonLength,
    bluesky: graphemes,
    facebook: function (text) {
      return codePoints(text).length;
    },
  };

  function utf8Bytes(text) {
    return new TextEncoder().encode(text).length;
  }

  // http.with_link: the link on the last line, unless the text has it.
  function withLink(text, link) {
    text = strip(text);
    link = strip(link || "");
    if (!link || text.indexOf(link) !== -1) return text;
    return text ? text + "\n\n" + link : link;
  }

  function length(network, text) {
    var counter = COUNTERS[network] || COUNTERS.facebook;
    return { count: counter(text), bytes: utf8Bytes(text) };
  }

  function fill(label, values) {
    return Object.keys(values).reduce(function (text, name) {
      return text.split("{" + name + "}").join(String(values[name]));
    }, label || "");
  }

  function linkFor(form, network) {
    var target = form.querySelector("[data-social-target]");
    var option = target && target.selectedOptions.length ? target.selectedOptions[0] : null;
    var stem = option ? option.getAttribute("data-url") : "";
    if (stem) return stem + network;
    var address = form.querySelector("[data-social-url]");
    return address ? strip(address.value) : "";
  }

  function render(form) {
    var main = form.querySelector("[data-social-text]");
    form.querySelectorAll("output[data-social-counter]").forEach(function (output) {
      var id = output.getAttribute("data-social-counter");
      var network = output.getAttribute("data-network");
      var version = form.querySelector('[data-social-version="' + id + '"]');
      var body = version && strip(version.value) ? version.value : main ? main.value : "";
      var measured = length(network, withLink(body, linkFor(form, network)));
      var limit = parseInt(output.getAttribute("data-limit"), 10);
      var maxBytes = parseInt(output.getAttribute("data-max-bytes"), 10);
      var over = measured.count > limit;
      var tooHeavy = !over && !isNaN(maxBytes) && measured.bytes > maxBytes;
      var label = output.getAttribute(over ? "data-label-over" : tooHeavy ? "data-label-bytes" : "data-label");
      output.textContent = fill(label, {
        count: measured.count,
        limit: limit,
        over: measured.count - limit,
        bytes: measured.bytes,
        max_bytes: isNaN(maxBytes) ? "" : maxBytes,
      }); // text, never HTML
      output.setAttribute("data-count", String(measured.count));
      output.setAttribute("data-over", over || tooHeavy ? "1" : "0");
    });
  }

  function attach(form) {
    var update = function () {
      render(form);
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update(); // a form shown again after an error already holds a text
  }

  window.suffrageSocialLength = length;
  window.suffrageSocialPublished = withLink;
  function attachAll() {
    document.querySelectorAll("form[data-social-composer]").forEach(attach);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", attachAll);
  } else {
    attachAll();
  }
})();
