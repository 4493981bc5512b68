// Inbox: open hand-offs and tickets, live from /api/stream, filtered by department and language.
"use strict";

(() => {
  const { api, el, notice, waited, stream } = Console;
  const filter = document.getElementById("dept-filter");
  const langFilter = document.getElementById("lang-filter");
  let inbox = { handoffs: [], tickets: [], departments: [], languages: [] };

  const saved = sessionStorage.getItem("dept-filter");
  const savedLang = sessionStorage.getItem("lang-filter");

  function fillDepartments() {
    const current = filter.value || saved || "";
    const known = new Set([...filter.options].map((o) => o.value));
    const names = new Map(inbox.departments.map((d) => [d.id, d.name]));
    for (const item of [...inbox.handoffs, ...inbox.tickets]) {
      names.set(item.department || "-", item.department_name);
    }
    for (const [id, name] of names) {
      if (!known.has(id)) filter.appendChild(el("option", { value: id }, name));
    }
    filter.value = current;
  }

  // Only the languages someone is waiting in (or was, since the page opened): a short menu.
  function fillLanguages() {
    const current = langFilter.value || savedLang || "";
    const known = new Set([...langFilter.options].map((o) => o.value));
    const present = new Set([...inbox.handoffs, ...inbox.tickets].map((i) => i.language || "-"));
    if (current) present.add(current);
    for (const lang of inbox.languages) {
      if (present.has(lang.id) && !known.has(lang.id)) langFilter.appendChild(el("option", { value: lang.id }, lang.name));
    }
    langFilter.value = current;
  }

  function shown(item) {
    return (!filter.value || (item.department || "-") === filter.value)
      && (!langFilter.value || (item.language || "-") === langFilter.value);
  }

  function languageCell(item) {
    return el("td", { class: "nowrap", lang: "ja" },
      item.foreign ? el("span", { class: "badge lang" }, item.language_label) : item.language_label);
  }

  async function claim(id, button) {
    button.disabled = true;
    const r = await api("POST", `/api/handoffs/${id}/claim`);
    if (r.ok) {
      window.location.href = `/handoffs/${id}`;
      return;
    }
    button.disabled = false;
    notice(r.data.message || "担当できませんでした。", "error");
  }

  function handoffRow(h) {
    const badge = h.status === "waiting" ? "waiting" : "claimed";
    const state = h.status === "claimed" ? `${h.status_label}（${h.claimed_by_name || h.claimed_by}）` : h.status_label;
    const action = h.status === "waiting"
      ? el("button", { type: "button", class: "primary", "data-claim": h.id, onclick: (e) => claim(h.id, e.target) }, "担当する")
      : el("a", { href: `/handoffs/${h.id}`, class: "button" }, "開く");
    return el("tr", { class: h.urgent ? "urgent" : null, "data-handoff": h.id },
      el("td", { class: "wait", "data-since": h.created_at }, waited(h.created_at)),
      el("td", {}, el("span", { class: "badge " + badge }, state)),
      el("td", { class: "nowrap" }, h.department_name),
      languageCell(h),
      el("td", {}, h.urgent ? el("span", { class: "badge urgent" }, h.reason_label) : h.reason_label),
      el("td", { class: "q" }, h.question
        ? el("a", { href: `/handoffs/${h.id}`, lang: h.question_lang }, h.question)
        : el("a", { href: `/handoffs/${h.id}` }, "（質問の記録なし）")),
      el("td", { class: "nowrap" }, action));
  }

  function ticketRow(t) {
    return el("tr", { "data-ticket": t.id },
      el("td", { class: "wait", "data-since": t.created_at }, waited(t.created_at)),
      el("td", { class: "nowrap" }, t.department_name),
      languageCell(t),
      el("td", {}, t.contact_label),
      el("td", { class: "q", lang: t.question_lang }, t.question),
      el("td", { class: "nowrap" }, t.expected_by || ""),
      el("td", { class: "nowrap" }, el("a", { href: `/tickets/${t.id}`, class: "button" }, "回答する")));
  }

  function render() {
    fillDepartments();
    fillLanguages();
    const handoffs = inbox.handoffs.filter(shown);
    const tickets = inbox.tickets.filter(shown);
    document.querySelector("#handoffs tbody").replaceChildren(...handoffs.map(handoffRow));
    document.querySelector("#tickets tbody").replaceChildren(...tickets.map(ticketRow));
    document.getElementById("handoff-count").textContent = handoffs.length + "件";
    document.getElementById("ticket-count").textContent = tickets.length + "件";
    document.getElementById("handoffs-empty").hidden = handoffs.length > 0;
    document.getElementById("tickets-empty").hidden = tickets.length > 0;
    document.getElementById("handoffs").hidden = handoffs.length === 0;
    document.getElementById("tickets").hidden = tickets.length === 0;
    document.title = (handoffs.some((h) => h.status === "waiting") ? "● " : "") + "受付一覧 | 窓口 職員コンソール";
  }

  filter.addEventListener("change", () => { sessionStorage.setItem("dept-filter", filter.value); render(); });
  langFilter.addEventListener("change", () => { sessionStorage.setItem("lang-filter", langFilter.value); render(); });
  setInterval(() => {
    for (const cell of document.querySelectorAll("[data-since]")) cell.textContent = waited(cell.dataset.since);
  }, 30000);

  api("GET", "/api/inbox").then((r) => { if (r.ok) { inbox = r.data; render(); } });
  stream(null, { inbox: (data) => { inbox = data; render(); } });
})();
