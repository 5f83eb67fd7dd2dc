/* Proof of work for public forms, when the campaign turns it on: before the form is
   sent, the browser finds a nonce such that sha256(challenge + ":" + nonce) starts with
   the number of zero bits the challenge asks (16: about 65,000 tries, a second or two).
   A person hardly notices; a robot sending thousands of forms pays for each one.
   The challenge is signed by the server, valid 15 minutes, accepted once. */
(function () {
  "use strict";

  // The challenge is "<random>.<bits>:<timestamp>:<signature>".
  function bitsOf(challenge) {
    var bits = parseInt(challenge.split(":")[0].split(".")[1], 10);
    return bits > 0 && bits <= 32 ? bits : 16;
  }

  function wordOk(firstWord, bits) {
    return (firstWord >>> (32 - bits)) === 0;
  }

  // --- SHA-256 in plain JavaScript, for browsers without crypto.subtle (plain http). ---
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];

  // The first 32 bits of sha256(text), for an ASCII text (the challenge and a number).
  function sha256FirstWord(text) {
    var bytes = [];
    var i, t;
    for (i = 0; i < text.length; i++) bytes.push(text.charCodeAt(i) & 0xff);
    var bitLength = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) bytes.push(0);
    bytes.push(0, 0, 0, 0, (bitLength >>> 24) & 255, (bitLength >>> 16) & 255, (bitLength >>> 8) & 255, bitLength & 255);
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var w = new Array(64);
    for (var offset = 0; offset < bytes.length; offset += 64) {
      for (t = 0; t < 16; t++) {
        var at = offset + 4 * t;
        w[t] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
      }
      for (t = 16; t < 64; t++) {
        var x = w[t - 15], y = w[t - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (t = 0; t < 64; t++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
      H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
    }
    return H[0] >>> 0;
  }

  function solvePlain(challenge, bits) {
    return new Promise(function (resolve) {
      var nonce = 0;
      (function round() {
        for (var end = nonce + 5000; nonce < end; nonce++) {
          if (wordOk(sha256FirstWord(challenge + ":" + nonce), bits)) return resolve(String(nonce));
        }
        setTimeout(round, 0); // let the page breathe
      })();
    });
  }

  function solveSubtle(challenge, bits) {
    var encoder = new TextEncoder();
    var start = 0;
    var BATCH = 512;
    return new Promise(function (resolve, reject) {
      (function round() {
        var digests = [];
        for (var i = 0; i < BATCH; i++) {
          digests.push(window.crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + (start + i))));
        }
        Promise.all(digests).then(function (results) {
          for (var j = 0; j < results.length; j++) {
            if (wordOk(new DataView(results[j]).getUint32(0), bits)) return resolve(String(start + j));
          }
          start += BATCH;
          round();
        }, reject);
      })();
    });
  }

  function solve(challenge) {
    var bits = bitsOf(challenge);
    if (window.crypto && window.crypto.subtle && window.TextEncoder) {
      return solveSubtle(challenge, bits).catch(function () { return solvePlain(challenge, bits); });
    }
    return solvePlain(challenge, bits);
  }

  function protect(form) {
    var challenge = form.querySelector("input[name=_pow_challenge]");
    var nonce = form.querySelector("input[name=_pow_nonce]");
    var status = form.querySelector("[data-pow-status]");
    var button = form.querySelector("button[type=submit]");
    if (!challenge || !nonce) return;
    if (status) status.textContent = status.getAttribute("data-working");
    var solved = solve(challenge.value).then(function (value) {
      nonce.value = value;
      if (status) status.textContent = status.getAttribute("data-ready");
    });
    form.addEventListener("submit", function (event) {
      if (nonce.value) return;
      event.preventDefault();
      if (button) button.disabled = true;
      solved.then(function () {
        if (button) button.disabled = false;
        form.submit();
      });
    });
  }

  // For tests (node): the same hash, without a page.
  if (typeof module !== "undefined" && module.exports) {
    module.exports = { sha256FirstWord: sha256FirstWord, solvePlain: solvePlain, bitsOf: bitsOf };
    return;
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-pow]"), protect);
  });
})();
