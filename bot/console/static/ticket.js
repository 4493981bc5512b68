// One ticket (a question left for staff): read it, answer it.
"use strict";

(() => {
  const { api, notice, time } = Console;
  const root = document.getElementById("ticket");
  const id = root.dataset.ticketId;
  const form = document.getElementById("answer-form");

  function show(t) {
    document.getElementById("f-status").textContent = t.status_label;
    document.getElementById("f-department").textContent = t.department_name;
    document.getElementById("f-contact").textContent = t.contact_label;
    document.getElementById("f-created").textContent = time(t.created_at);
    document.getElementById("f-expected").textContent = t.expected_by || "—";
    document.getElementById("f-channel").textContent = t.channel_label;
    document.getElementById("f-language").textContent = t.language_label;
    document.getElementById("question").textContent = t.question;
    document.getElementById("question").lang = t.question_lang;
    document.getElementById("answer-hint").textContent = t.contact_method === "chat"
      ? "回答は、住民の方が使ったチャットに送られます。"
      : "住民の方は担当課に電話する予定です。回答は記録だけされ、チャットには送られません。電話を受けた職員が確認できます。";
    form.hidden = t.status !== "open";
    const answered = document.getElementById("answered");
    answered.hidden = !t.answer;
    if (t.answer) {
      document.getElementById("answer-body").textContent = t.answer;
      document.getElementById("answered-by").textContent = `${t.answered_by_name || t.answered_by}・${time(t.answered_at)}`;
    }
    if (t.status === "cancelled") notice("この伝言は住民の方が取り消しました。", "");
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const r = await api("POST", `/api/tickets/${id}/answer`, { answer: document.getElementById("answer-text").value });
    button.disabled = false;
    if (!r.ok) { notice(r.data.message || "回答できませんでした。", "error"); return; }
    show(r.data.ticket);
    notice(r.data.delivered ? "回答を住民の方に送りました。" : "回答を記録しました。", "ok");
  });

  (async () => {
    const r = await api("GET", `/api/tickets/${id}`);
    if (r.ok) show(r.data.ticket); else notice(r.data.message || "読み込めませんでした。", "error");
    const c = await api("GET", `/api/tickets/${id}/conversation`);
    if (c.ok) Transcript.append(document.getElementById("transcript"), c.data.items, -1);
  })();
})();
