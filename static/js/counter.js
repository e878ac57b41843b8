// The counter's script (the CSP allows no inline script). Progressive: every step works without it.
//  1. Keeps the scan field focused (or the PIN box, while a printed card waits for its PIN), so a
//     USB barcode scanner (which types the code and Enter) or typed digits always land there;
//     refocuses after each tap elsewhere.
//  2. Tells a scan from a PIN by its shape: a card's code (C, a digit, 39 letters/digits) scanned
//     or typed into the scan field moves the focus to the PIN box instead of sending the form,
//     and Enter there sends both; a code that lands in the PIN box (a second scan) replaces the
//     first and never counts as a PIN; a pay code (20 digits) is sent at once. On the item grid,
//     a code scanned into the search box starts the next resident instead of filtering.
//  3. The camera button: the browser's BarcodeDetector where present, otherwise the vendored jsQR
//     (static/vendor/jsqr, loaded only when needed) on frames of getUserMedia; a code found is
//     put in the field and the form is sent. Without a secure context (plain HTTP on the LAN)
//     or a camera API, it says so instead and the scanner and typed digits remain.
//  4. The item grid: − / + steppers, search by name, the running total against the balance (a
//     warning, and Confirm disabled (aria-disabled too, so it looks it), when it is more than the resident has).
//  5. Confirm is disabled once pressed; a second press would in any case show the same receipt,
//     because the form carries the idempotency key the server rendered.
//  6. Sign out while items are chosen asks first (the nav's inline second button, which works
//     without this script too); with nothing chosen it signs out at once.
"use strict";

(() => {
  if (window.mallCounter) {
    // loaded again by a boosted page change: only set up the new page
    window.mallCounter();
    return;
  }
  const JSQR = "/static/vendor/jsqr/jsQR-1.4.0.js";
  let stream = null;

  function typing(element) {
    return element && element.matches && element.matches("input, textarea, select, summary, [contenteditable]");
  }

  // what a scanned or typed text is, by its shape alone (mall.people.codes.shape)
  function shape(text) {
    const code = (text || "").replace(/[\s-]/g, "").toUpperCase();
    if (/^C\d[A-Z2-7]{39}$/.test(code)) return "card";
    if (/^\d{20}$/.test(code)) return "pay";
    return null;
  }

  // where a scan or typing should land: the PIN box while a card waits for its PIN
  function home() {
    const pin = document.querySelector("[data-pin-field]");
    if (pin && pin.closest("details[open]") && pin.dataset.wanted) return pin;
    return document.querySelector("[data-scan-field]");
  }

  function keepFocus() {
    const pin = document.querySelector("[data-pin-field]");
    if (pin && pin.hasAttribute("autofocus")) pin.dataset.wanted = "1";
    const field = home();
    if (field && !field.dataset.kept) {
      field.dataset.kept = "1";
      field.focus();
    }
  }

  document.addEventListener("focusout", () => {
    setTimeout(() => {
      const field = home();
      if (field && !typing(document.activeElement) && !stream) field.focus();
    }, 150);
  });

  function askForPin(form) {
    const pin = form.querySelector("[data-pin-field]");
    const box = form.querySelector("[data-pin-box]");
    if (!pin) return false;
    if (box) box.open = true;
    pin.dataset.wanted = "1";
    pin.required = true;
    pin.value = "";
    pin.focus();
    return true;
  }

  function scanning() {
    const form = document.querySelector("[data-scan-form]");
    if (!form || form.dataset.scanning) return;
    form.dataset.scanning = "1";
    const field = form.querySelector("[data-scan-field]");
    const pin = form.querySelector("[data-pin-field]");
    field.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || shape(field.value) !== "card") return;
      // a card: its PIN comes next, typed by the resident; Enter there sends both
      if (askForPin(form)) event.preventDefault();
    });
    if (!pin) return;
    pin.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const kind = shape(pin.value);
      if (!kind) return; // a PIN: send the form
      event.preventDefault();
      field.value = pin.value.replace(/[\s-]/g, "").toUpperCase(); // a second scan replaces the first
      pin.value = "";
      if (kind === "card") {
        askForPin(form);
      } else {
        pin.required = false;
        form.requestSubmit();
      }
    });
  }

  function rescanning() {
    // on the item grid: a code scanned into the search box is the next resident, and Enter in
    // the search box never sends the order
    const search = document.querySelector("[data-item-search]");
    const again = document.querySelector("[data-rescan]");
    if (!search || search.dataset.rescanning) return;
    search.dataset.rescanning = "1";
    search.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      if (again && shape(search.value)) {
        again.querySelector("[data-rescan-code]").value = search.value.trim();
        again.requestSubmit();
      }
    });
  }

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = JSQR;
      script.onload = () => resolve(window.jsQR);
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function stopCamera(box) {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    if (box) box.hidden = true;
    const field = document.querySelector("[data-scan-field]");
    if (field) field.focus();
  }

  async function startCamera(form) {
    const box = form.querySelector("[data-camera-box]");
    const video = form.querySelector("[data-camera-video]");
    const field = form.querySelector("[data-scan-field]");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      return;
    }
    box.hidden = false;
    video.srcObject = stream;
    await video.play();
    const detector = "BarcodeDetector" in window ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    const decode = detector ? null : await loadJsQR().catch(() => null);
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });

    async function look() {
      if (!stream) return;
      let text = null;
      if (video.readyState >= 2) {
        if (detector) {
          const found = await detector.detect(video).catch(() => []);
          text = found.length ? found[0].rawValue : null;
        } else if (decode) {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0);
          const image = context.getImageData(0, 0, canvas.width, canvas.height);
          const found = decode(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
          text = found ? found.data : null;
        }
      }
      if (text) {
        stopCamera(box);
        field.value = text.trim();
        form.requestSubmit();
        return;
      }
      setTimeout(look, 200);
    }
    look();
  }

  function camera() {
    const form = document.querySelector("[data-scan-form]");
    const button = form && form.querySelector("[data-camera]");
    if (!button || button.dataset.ready) return;
    if (!window.isSecureContext || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
      // browsers give a page the camera only over HTTPS (or on this very computer)
      const note = form.querySelector("[data-camera-note]");
      if (note) note.hidden = false;
      return;
    }
    button.dataset.ready = "1";
    button.hidden = false;
    button.addEventListener("click", () => startCamera(form));
    form.querySelector("[data-camera-stop]").addEventListener("click", () => stopCamera(form.querySelector("[data-camera-box]")));
  }

  function disable(button, off) {
    button.disabled = off;
    if (off) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
  }

  function signOut() {
    // with nothing chosen there is nothing to lose: sign out at once, without the question
    const details = document.querySelector("[data-sign-out]");
    if (!details || details.dataset.ready) return;
    details.dataset.ready = "1";
    details.querySelector("summary").addEventListener("click", (event) => {
      if (details.dataset.empty === "1") {
        event.preventDefault();
        details.querySelector("form").submit();
      }
    });
  }

  function grid() {
    const form = document.querySelector("[data-checkout]");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    const totalShown = form.querySelector("[data-total]");
    const over = form.querySelector("[data-over]");
    const confirm = form.querySelector("[data-confirm]");
    const availableNode = document.querySelector("[data-available]");
    const available = availableNode ? Number(availableNode.dataset.available) : Infinity;

    function update() {
      let total = 0;
      form.querySelectorAll("[data-item]").forEach((item) => {
        const quantity = Number(item.querySelector("[data-quantity]").value) || 0;
        total += quantity * Number(item.dataset.price);
        item.classList.toggle("chosen", quantity > 0);
      });
      if (totalShown) totalShown.textContent = String(total);
      if (over) over.hidden = total <= available;
      if (confirm) disable(confirm, total > available || total === 0);
      const signOut = document.querySelector("[data-sign-out]");
      if (signOut) signOut.dataset.empty = total === 0 ? "1" : "";
    }

    form.querySelectorAll("[data-step]").forEach((button) => {
      button.hidden = false;
      button.addEventListener("click", () => {
        const input = button.parentElement.querySelector("[data-quantity]");
        const max = Number(input.max || 99);
        const next = Math.min(max, Math.max(0, (Number(input.value) || 0) + Number(button.dataset.step)));
        input.value = String(next);
        update();
      });
    });
    form.addEventListener("input", update);

    const search = form.querySelector("[data-item-search]");
    if (search) {
      search.addEventListener("input", () => {
        const query = search.value.trim().toLowerCase();
        form.querySelectorAll("[data-group]").forEach((group) => {
          let shown = 0;
          group.querySelectorAll("[data-item]").forEach((item) => {
            const match = !query || item.dataset.name.toLowerCase().includes(query);
            item.hidden = !match;
            if (match) shown += 1;
          });
          group.hidden = shown === 0;
        });
      });
    }

    form.addEventListener("submit", () => {
      // let this submission go, then refuse a second one while it is under way
      setTimeout(() => {
        if (confirm) disable(confirm, true);
      }, 0);
    });
    update();
  }

  function init() {
    keepFocus();
    scanning();
    rescanning();
    camera();
    grid();
    signOut();
  }

  window.mallCounter = init;
  document.addEventListener("htmx:afterSettle", init);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
