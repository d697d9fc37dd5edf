// Receiving: scan stamps with the camera where the browser can read QR codes.
// Progressive enhancement only: without this script (or without BarcodeDetector)
// the page still works by pasting codes or uploading photos. Each new code is
// added to the form's text box and checked at once through the bulk verify API,
// which counts no scan; the server checks every code again when the form is sent.
(function () {
  "use strict";

  var panel = document.getElementById("scanner");
  var box = document.getElementById("codes");
  if (!panel || !box || !("BarcodeDetector" in window) ||
      !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }

  var video = document.getElementById("scan-video");
  var start = document.getElementById("scan-start");
  var stop = document.getElementById("scan-stop");
  var live = document.getElementById("scan-live");
  var seen = new Set();
  var detector = null;
  var stream = null;
  var timer = null;

  function label(status) {
    return panel.getAttribute("data-status-" + status) || status;
  }

  function knownCodes() {
    box.value.split(/\r?\n/).forEach(function (line) {
      if (line.trim()) { seen.add(line.trim()); }
    });
  }

  function addLine(code) {
    var text = box.value;
    if (text && !/\n$/.test(text)) { text += "\n"; }
    box.value = text + code + "\n";
  }

  function show(item, status, details) {
    // textContent only: a QR code's text is a stranger's input.
    item.textContent = "";
    var badge = document.createElement("span");
    badge.className = "badge " + status;
    badge.textContent = label(status);
    item.appendChild(badge);
    item.appendChild(document.createTextNode(" " + details));
  }

  function check(code) {
    var item = document.createElement("li");
    item.textContent = code.slice(0, 60) + " · " + panel.getAttribute("data-checking");
    live.insertBefore(item, live.firstChild);
    fetch(panel.getAttribute("data-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({codes: [code]})
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (body) {
      var r = body.results[0];
      var parts = [r.product, r.lot, r.serial].filter(Boolean);
      show(item, r.status, parts.length ? parts.join(" · ") : code.slice(0, 60));
    }).catch(function () {
      item.textContent = code.slice(0, 60) + " · " + panel.getAttribute("data-failed");
    });
  }

  function found(code) {
    code = (code || "").trim();
    if (!code || seen.has(code)) { return; }
    seen.add(code);
    addLine(code);
    check(code);
  }

  function scan() {
    if (!stream) { return; }
    detector.detect(video).then(function (codes) {
      codes.forEach(function (c) { found(c.rawValue); });
    }).catch(function () { /* a frame not ready yet: try the next one */ })
      .then(function () { timer = window.setTimeout(scan, 250); });
  }

  function halt() {
    window.clearTimeout(timer);
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  function refuse() {
    halt();
    start.hidden = true;
    var note = document.createElement("p");
    note.className = "warn";
    note.textContent = panel.getAttribute("data-no-camera");
    panel.appendChild(note);
  }

  start.addEventListener("click", function () {
    knownCodes();
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        start.hidden = true;
        stop.hidden = false;
        return video.play();
      })
      .then(scan)
      .catch(refuse);
  });
  stop.addEventListener("click", halt);
  window.addEventListener("pagehide", halt);

  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") < 0) { return; }
    detector = new window.BarcodeDetector({formats: ["qr_code"]});
    panel.hidden = false;
  }).catch(function () { /* no detector: the form alone does the job */ });
}());
