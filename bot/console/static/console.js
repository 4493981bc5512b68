// Shared helpers of the console pages: API calls with the CSRF token, the live stream,
// and safe DOM building (text only through textContent, never innerHTML).
"use strict";

const Console = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  async function api(method, path, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      opts.headers["X-CSRF-Token"] = csrf;
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
    }
    let resp;
    try {
      resp = await fetch(path, opts);
    } catch (e) {
      return { ok: false, status: 0, data: { message: "コンソールに接続できません。ネットワークを確認してください。" } };
    }
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {}; }
    if (resp.status === 401) {
      window.location.href = "/login?next=" + encodeURIComponent(location.pathname);
    }
    return { ok: resp.ok, status: resp.status, data };
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function notice(message, kind) {
    const box = document.getElementById("notice");
    if (!box) return;
    box.textContent = message || "";
    box.className = "notice" + (kind ? " " + kind : "");
    box.hidden = !message;
  }

  const jst = new Intl.DateTimeFormat("ja-JP", {
    timeZone: "Asia/Tokyo", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
  function time(iso) { return iso ? jst.format(new Date(iso)) : ""; }

  function waited(iso) {
    if (!iso) return "";
    const minutes = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
    if (minutes < 1) return "1分未満";
    if (minutes < 60) return minutes + "分";
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + "時間" + (minutes % 60) + "分";
    return Math.floor(hours / 24) + "日";
  }

  // Server-Sent Events; the browser reconnects by itself after a drop.
  function stream(query, handlers) {
    const status = document.getElementById("live-status");
    const url = "/api/stream" + (query ? "?" + new URLSearchParams(query) : "");
    const source = new EventSource(url);
    source.onopen = () => { if (status) { status.textContent = "自動更新中"; status.className = "live on"; } };
    source.onerror = () => { if (status) { status.textContent = "再接続しています…"; status.className = "live off"; } };
    source.addEventListener("logout", () => { source.close(); window.location.href = "/login"; });
    for (const [name, fn] of Object.entries(handlers)) {
      source.addEventListener(name, (e) => fn(JSON.parse(e.data)));
    }
    return source;
  }

  return { api, el, notice, time, waited, stream };
})();
