// One hand-off: claim, the live conversation, reply, hand back, close.
"use strict";

(() => {
  const { api, notice, time, stream } = Console;
  const root = document.getElementById("handoff");
  const id = root.dataset.handoffId;
  const transcript = document.getElementById("transcript");
  const replyForm = document.getElementById("reply-form");
  const replyText = document.getElementById("reply-text");
  const buttons = {
    claim: document.getElementById("claim"),
    handBack: document.getElementById("show-hand-back"),
    close: document.getElementById("show-close"),
  };
  const handBackForm = document.getElementById("hand-back-form");
  const closeForm = document.getElementById("close-form");
  let last = -1;
  let handoff = null;

  // fromAction: the change is the user's own (their success message stays on screen).
  function show(h, fromAction) {
    const changed = !handoff || handoff.status !== h.status || handoff.claimed_by !== h.claimed_by;
    handoff = h;
    document.getElementById("f-status").textContent = h.status_label;
    document.getElementById("f-department").textContent = h.department_name;
    document.getElementById("f-reason").textContent = h.reason_label;
    document.getElementById("f-created").textContent = time(h.created_at);
    document.getElementById("f-staff").textContent = h.claimed_by_name || "—";
    document.getElementById("f-channel").textContent = h.channel_label;
    document.getElementById("f-language").textContent = h.language_label;
    buttons.claim.hidden = h.status !== "waiting";
    buttons.handBack.hidden = !h.mine;
    buttons.close.hidden = !h.mine;
    replyForm.hidden = !h.mine;
    if (!h.mine) { handBackForm.hidden = true; closeForm.hidden = true; }
    if (!changed || fromAction) return;
    if (h.status === "claimed" && !h.mine) notice(`この会話は ${h.claimed_by_name} さんが担当しています。`, "");
    if (!["waiting", "claimed"].includes(h.status)) notice(`この引き継ぎは「${h.status_label}」です。`, "");
  }

  async function refresh() {
    const r = await api("GET", `/api/handoffs/${id}`);
    if (r.ok) show(r.data.handoff);
  }

  async function loadConversation() {
    const r = await api("GET", `/api/handoffs/${id}/conversation`);
    if (!r.ok) { notice(r.data.message || "会話を読み込めませんでした。", "error"); return 0; }
    last = Transcript.append(transcript, r.data.items, last);
    return r.data.cursor;
  }

  async function act(button, path, body, done) {
    button.disabled = true;
    const r = await api("POST", path, body);
    button.disabled = false;
    if (!r.ok) { notice(r.data.message || "できませんでした。", "error"); return false; }
    notice("", "");
    if (r.data.handoff) show(r.data.handoff, true);
    if (done) done(r.data);
    return true;
  }

  buttons.claim.addEventListener("click", () =>
    act(buttons.claim, `/api/handoffs/${id}/claim`, {}, () => { notice("担当しました。住民の方に返信してください。", "ok"); replyText.focus(); }));
  buttons.handBack.addEventListener("click", () => { handBackForm.hidden = false; closeForm.hidden = true; });
  buttons.close.addEventListener("click", () => { closeForm.hidden = false; handBackForm.hidden = true; });
  for (const form of [handBackForm, closeForm]) {
    form.querySelector(".cancel").addEventListener("click", () => { form.hidden = true; });
  }
  handBackForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(handBackForm.querySelector("button[type=submit]"), `/api/handoffs/${id}/hand_back`,
      { note: document.getElementById("hand-back-note").value },
      () => notice("自動応答に戻しました。", "ok"));
  });
  closeForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(closeForm.querySelector("button[type=submit]"), `/api/handoffs/${id}/close`,
      { resolution: document.getElementById("close-resolution").value },
      () => notice("対応を終了しました。", "ok"));
  });
  async function sendReply() {
    const text = replyText.value.trim();
    if (!text) { notice("返信を入力してください。", "error"); return; }
    const ok = await act(replyForm.querySelector("button[type=submit]"), `/api/handoffs/${id}/reply`, { text });
    if (ok) { replyText.value = ""; replyText.focus(); }
  }
  replyForm.addEventListener("submit", (e) => { e.preventDefault(); sendReply(); });
  replyText.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendReply(); }
  });

  (async () => {
    await refresh();
    const cursor = await loadConversation();
    stream({ handoff: id, cursor }, {
      conversation: (data) => { last = Transcript.append(transcript, data.items, last); },
      inbox: () => refresh(),
      rasa: () => notice("チャットのサーバーに接続できません。しばらくお待ちください。", "error"),
    });
  })();
})();
