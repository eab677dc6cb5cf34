// Class collection form: show "N selected, total X yuan" as boxes are ticked, so the cashier can check it
// against the cash counted before submitting. Display only — the server validates and computes the amount.
(function () {
  "use strict";
  const form = document.getElementById("class-collection");
  const out = document.getElementById("collect-total");
  if (!form || !out) return;
  const amount = form.querySelector('input[name="amount_yuan"]');

  function update() {
    const n = form.querySelectorAll('input[name="student"]:checked').length;
    const m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(amount.value);   // same shape the server accepts
    const fen = m ? Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0")) : NaN;
    const total = Number.isNaN(fen) ? "—" : ((fen * n) / 100).toFixed(2);
    out.querySelector(".n").textContent = String(n);
    out.querySelector(".t").textContent = total;
    out.hidden = false;   // shown only where this script runs
  }
  form.addEventListener("change", update);
  amount.addEventListener("input", update);
  update();
})();
