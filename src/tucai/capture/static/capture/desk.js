// Check-in desk: keyboard-wedge scanner (text field + Enter), device camera, manual search.
(function () {
  "use strict";
  const desk = document.getElementById("desk");
  if (!desk) return;
  const form = document.getElementById("scan-form");
  const input = document.getElementById("scan-code");
  const result = document.getElementById("result");
  const rawField = document.getElementById("search-raw");
  const deskName = document.getElementById("desk-name");
  const csrf = desk.dataset.csrf;

  // The desk token is asked for by POST once the page is there (opening a page must change nothing).
  // Scans wait for it; without one (offline, refused) they go through the session API instead.
  const tokenReady = (async () => {
    try {
      const body = new URLSearchParams({desk: deskName.value});
      const r = await fetch(desk.dataset.tokenUrl, {method: "POST", body: body, credentials: "same-origin",
                                                    headers: {"X-CSRFToken": csrf}});
      const data = await r.json();
      if (data.ok) {
        desk.dataset.deskToken = data.token;
        desk.dataset.deskTokenId = data.id;
        desk.dataset.deskRevoke = data.revoke;
      }
    } catch (e) { /* the session API serves */ }
    desk.dataset.tokenState = desk.dataset.deskToken ? "ready" : "none";
  })();

  function nonce() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // One nonce per submission; a retry after a network error reuses it, so the server returns the
  // number it already issued instead of a second one.
  async function submit(payload) {
    await tokenReady;
    const body = JSON.stringify(Object.assign({
      campaign: desk.dataset.campaign, room: desk.dataset.room, date: desk.dataset.date,
      desk: deskName.value, nonce: nonce(),
    }, payload));
    // The desk token (issued with this page, bound to its room and day) authenticates the scan:
    // the server then skips session and CSRF work. Without one, the session API.
    const token = desk.dataset.deskToken;
    const url = token ? desk.dataset.deskApi : desk.dataset.api;
    const headers = token ? {"Content-Type": "application/json", "Authorization": "Desk " + token}
                          : {"Content-Type": "application/json", "X-CSRFToken": csrf};
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const r = await fetch(url, {method: "POST", body: body, credentials: "same-origin", headers: headers});
        const data = await r.json();
        show(data, payload);
        return data;
      } catch (e) {
        result.innerHTML = '<p class="bad">网络错误，正在重试…</p>';
        await new Promise((ok) => setTimeout(ok, 500 * (attempt + 1)));
      }
    }
    result.innerHTML = '<p class="bad">网络错误：请检查连接后重新扫码</p>';
  }

  function show(data, payload) {
    result.innerHTML = data.html || ('<p class="bad">' + (data.message || data.code || "错误") + "</p>");
    rawField.value = (data.reason === "code.unknown" && payload.code) ? payload.code : "";
    if (rawField.value) document.getElementById("manual").open = true;
  }

  // Scans through the desk token are recorded under the name the token was issued with: a new name
  // opens the page again, which issues a token bound to it.
  // The old name's token is revoked first, so no second live token is left behind for this desk.
  deskName.addEventListener("change", async () => {
    await tokenReady;
    if (!desk.dataset.deskToken) return;
    const url = new URL(window.location.href);
    url.searchParams.set("desk", deskName.value.trim());
    if (desk.dataset.deskRevoke) {
      try {
        await fetch(desk.dataset.deskRevoke, {method: "POST", credentials: "same-origin",
                                              headers: {"X-CSRFToken": csrf}});
      } catch (e) { /* offline: the old token still ends with its shift */ }
    }
    window.location.assign(url.toString());
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = input.value.trim();
    input.value = "";
    input.focus();
    if (code) submit({code: code});
  });

  // Manual check-in and binding from the search results.
  document.getElementById("search-results").addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button");
    if (!btn) return;
    if (btn.classList.contains("manual-checkin")) {
      submit({student: btn.dataset.student});
    } else if (btn.classList.contains("bind-code")) {
      const fd = new FormData();
      fd.append("student", btn.dataset.student);
      fd.append("raw", rawField.value);
      const r = await fetch(desk.dataset.bind, {method: "POST", body: fd, credentials: "same-origin",
        headers: {"X-CSRFToken": csrf}});
      const data = await r.json();
      if (data.ok) { const raw = rawField.value; rawField.value = ""; submit({code: raw}); }
      else result.insertAdjacentHTML("afterbegin", '<p class="bad">' + data.message + "</p>");
    }
    input.focus();
  });

  // Device camera: the browser's BarcodeDetector where there is one, else frames decoded on the server.
  const camBtn = document.getElementById("camera-btn");
  const camBox = document.getElementById("camera");
  const video = document.getElementById("camera-video");
  const camStatus = document.getElementById("camera-status");
  let stream = null, lastText = "", lastAt = 0, busy = false;

  async function found(text) {
    const now = Date.now();
    if (text === lastText && now - lastAt < 3000) return;  // the same code still in front of the lens
    lastText = text; lastAt = now;
    await submit({code: text});
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      camStatus.textContent = "此浏览器无法使用摄像头"; camBox.hidden = false; return;
    }
    stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false});
    video.srcObject = stream; await video.play(); camBox.hidden = false;
    const detector = ("BarcodeDetector" in window) ? new BarcodeDetector({formats: ["qr_code"]}) : null;
    camStatus.textContent = detector ? "浏览器识别中…" : "服务器识别中…";
    const canvas = document.createElement("canvas");
    const tick = async () => {
      if (!stream) return;
      if (!busy && video.readyState >= 2) {
        busy = true;
        try {
          if (detector) {
            const codes = await detector.detect(video);
            if (codes.length) await found(codes[0].rawValue);
          } else {
            canvas.width = video.videoWidth; canvas.height = video.videoHeight;
            canvas.getContext("2d").drawImage(video, 0, 0);
            const blob = await new Promise((ok) => canvas.toBlob(ok, "image/jpeg", 0.8));
            const fd = new FormData(); fd.append("frame", blob, "frame.jpg");
            const r = await fetch(desk.dataset.decode, {method: "POST", body: fd, credentials: "same-origin",
              headers: {"X-CSRFToken": csrf}});
            const data = await r.json();
            if (data.ok && data.text) await found(data.text);
          }
        } catch (e) { camStatus.textContent = "识别出错：" + e; }
        busy = false;
      }
      setTimeout(tick, detector ? 150 : 700);
    };
    tick();
  }

  camBtn.addEventListener("click", async () => {
    if (stream) {
      stream.getTracks().forEach((t) => t.stop()); stream = null; camBox.hidden = true; input.focus(); return;
    }
    try { await startCamera(); } catch (e) { camStatus.textContent = "无法打开摄像头：" + e; camBox.hidden = false; }
  });
})();
