// Conversation items (from /api/…/conversation and the live stream) as chat bubbles.
"use strict";

const Transcript = (() => {
  const { el, time } = Console;
  const TYPE_LABELS = {
    answer: "回答", clarify: "聞き返し", cannot_answer: "回答できず", unclear: "理解できず",
    smalltalk: "あいさつ", handoff: "引き継ぎ", feedback: "評価", staff: "職員", error: "エラー",
  };

  function candidates(list, open) {
    if (!list || !list.length) return null;
    return el("details", { open: open || null },
      el("summary", {}, `考えた候補（${list.length}件）`),
      el("ol", {}, list.map((c) => el("li", {},
        `${c.question || c.faq_id}`, c.score !== null ? `（${c.faq_id}・${c.score}）` : `（${c.faq_id}）`))));
  }

  function item(it) {
    if (it.kind === "system") {
      return el("div", { class: "msg system", "data-index": it.index }, `― ${it.text}（${time(it.time)}） ―`);
    }
    if (it.kind === "user") {
      const d = it.decision;
      const meta = ["住民", time(it.time)];
      if (d && d.type) meta.push(`判定: ${TYPE_LABELS[d.type] || d.type}` + (d.confidence !== null ? `（確信度 ${d.confidence}）` : ""));
      return el("div", { class: "msg user", "data-index": it.index },
        el("span", { class: "meta" }, meta.join("・")),
        it.button ? `［ボタン］${it.button}` : it.text,
        d ? candidates(d.candidates, false) : null);
    }
    const who = it.kind === "staff" ? `職員 ${it.staff_name || ""}` : `自動応答（${TYPE_LABELS[it.type] || it.type || "—"}）`;
    const meta = [who, time(it.time)];
    if (it.confidence !== null && it.confidence !== undefined) meta.push(`確信度 ${it.confidence}`);
    return el("div", { class: `msg ${it.kind}`, "data-index": it.index },
      el("span", { class: "meta" }, meta.join("・")),
      it.text,
      it.buttons && it.buttons.length ? el("div", { class: "buttons" }, "ボタン: " + it.buttons.join(" / ")) : null,
      candidates(it.candidates, false));
  }

  // Adds items the page does not have yet (by tracker index); returns the last index.
  function append(container, items, last) {
    let max = last;
    const atBottom = window.innerHeight + window.scrollY >= document.body.offsetHeight - 80;
    for (const it of items) {
      if (it.index <= max) continue;
      container.appendChild(item(it));
      max = it.index;
    }
    if (atBottom && max > last) window.scrollTo(0, document.body.scrollHeight);
    return max;
  }

  return { append };
})();
