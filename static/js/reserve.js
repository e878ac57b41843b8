// Reserving goods (/me/reservations/new): the − and + steppers and the running total, in the page.
// Without this script every stepper is a submit button that posts the form back with one more or
// one less, and the server works the total out; this script only saves those round trips.
// The listeners are on the document, so they work on whatever copy of the page htmx swapped in.
"use strict";

(() => {
  if (window.mallReserve) return; // loaded again by a later visit to the page: listen once
  window.mallReserve = true;

  function update(form) {
    let total = 0;
    form.querySelectorAll("[data-item]").forEach((item) => {
      const input = item.querySelector("[data-quantity]");
      const quantity = Math.max(0, Math.floor(Number(input.value) || 0));
      total += quantity * Number(item.dataset.price);
      item.classList.toggle("chosen", quantity > 0);
      const more = item.querySelector('[data-step="1"]');
      if (more) more.disabled = quantity >= Number(input.max || 99);
    });
    const availableNode = form.querySelector("[data-available]");
    const available = availableNode ? Number(availableNode.dataset.available) : Infinity;
    form.querySelector("[data-total]").textContent = String(total);
    form.querySelector("[data-over]").hidden = total <= available;
    form.querySelector("[data-confirm]").disabled = total > available || total === 0;
  }

  document.addEventListener(
    "click",
    (event) => {
      const button = event.target instanceof Element && event.target.closest("[data-step]");
      const form = button && button.closest("[data-reserve]");
      if (!form) return;
      event.preventDefault();
      const input = button.parentElement.querySelector("[data-quantity]");
      const max = Number(input.max || 99);
      const next = Math.min(max, Math.max(0, (Number(input.value) || 0) + Number(button.dataset.step)));
      input.value = String(next);
      update(form);
    },
    true,
  );
  document.addEventListener("input", (event) => {
    const form = event.target instanceof Element && event.target.closest("[data-reserve]");
    if (form) update(form);
  });
})();
