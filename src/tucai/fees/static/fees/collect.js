// Class collection form: show "N selected, total X yuan" as boxes are ticked, so the cashier can check it
// against the cash counted before submitting. Display only — the server validates and computes the amount:
// each ticked student is charged what they still owe (data-owed-fen), at most the amount typed; with
// "allow extra" ticked, the amount typed.
(function () {
  "use strict";
  const form = document.getElementById("class-collection");
  const out = document.getElementById("collect-total");
  if (!form || !out) return;
  const amount = form.querySelector('input[name="amount_yuan"]');
  const extra = form.querySelector('input[name="allow_extra"]');
  // Same shape the server accepts (tucai/fees/money.py): NFKC first (full-width "１２．５", "￥" from an IME),
  // then ASCII digits only — JavaScript's \d is ASCII, \s is narrowed to the ASCII whitespace Python's re.ASCII uses.
  const YUAN = /^[ \t\n\r\f\v]*¥?[ \t\n\r\f\v]*([0-9]{1,9})(?:\.([0-9]{1,2}))?[ \t\n\r\f\v]*(?:元)?[ \t\n\r\f\v]*$/;
  const MAX_FEN_EACH = 100000;   // money.AMOUNT_MAX_FEN_EACH

  function update() {
    const boxes = form.querySelectorAll('input[name="student"]:checked');
    const m = YUAN.exec(amount.value.normalize("NFKC"));
    const fen = m ? Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0")) : NaN;
    let sum = 0;
    boxes.forEach(function (b) {
      const owed = Number(b.dataset.owedFen);
      sum += extra && extra.checked ? fen : Math.min(fen, Number.isNaN(owed) ? fen : owed);
    });
    const ok = !Number.isNaN(fen) && fen > 0 && fen <= MAX_FEN_EACH;
    out.querySelector(".n").textContent = String(boxes.length);
    out.querySelector(".t").textContent = ok ? (sum / 100).toFixed(2) : "—";
    out.hidden = false;   // shown only where this script runs
  }
  form.addEventListener("change", update);
  amount.addEventListener("input", update);
  update();
})();
