/*
 * Madoguchi chat widget: one <script> tag on a city's website.
 *
 *   <script src="https://chat.example.lg.jp/webhooks/web/widget.js" defer
 *           data-title="サンプル市 お問い合わせチャット"></script>
 *
 * Plain JavaScript, no framework, no external files except widget.css from the same
 * server. The widget lives in a shadow root so the city's CSS cannot break it.
 * Configuration: data- attributes on the script tag, or window.MadoguchiConfig set
 * before it (see README "Web chat widget").
 */
(function () {
  "use strict";

  if (window.MadoguchiWidget) {
    return; // embedded twice: keep the first one
  }

  var script = document.currentScript;
  var STORAGE_VERSION = 1;
  var MAX_HISTORY = 100;
  var MAX_CHARS = 2000;

  var DEFAULT_TEXTS = {
    title: "お問い合わせチャット",
    launcher: "チャットで質問する",
    unread: "新しいメッセージ {n}件",
    greeting: "こんにちは。市役所の手続きや制度について、知りたいことを短い文で入力してください。",
    privacyNote: "お名前・住所・電話番号などの個人情報は入力しないでください。",
    inputLabel: "質問を入力",
    placeholder: "例：住民票はどこで取れますか",
    send: "送信",
    close: "閉じる",
    newConversation: "新しい会話",
    newConversationStarted: "新しい会話を始めました。",
    largeText: "文字を大きく",
    conversationLabel: "会話の記録",
    you: "あなた",
    bot: "窓口",
    staff: "市役所の職員",
    staffNamed: "市役所の職員（{name}）",
    department: "担当",
    phone: "電話",
    moreInfo: "詳しい情報（市のページ）",
    newTab: "新しいタブで開きます",
    contact: "お問い合わせ先",
    choices: "選択肢",
    chosen: "選択済み",
    feedbackQuestion: "役に立ちましたか？",
    feedbackYes: "はい",
    feedbackNo: "いいえ",
    feedbackThanks: "ご回答ありがとうございました。",
    handoff: "担当者への取り次ぎ",
    handoffQueued: "担当者におつなぎしています…",
    queueAhead: "（あなたの前に {n}人）",
    queueNext: "（次にご案内します）",
    handoffClaimed: "{name}が対応します。",
    handoffClaimedNoName: "担当者が対応します。",
    waiting: "回答を準備しています…",
    sendFailed: "送信できませんでした。通信環境を確認して、もう一度お試しください。",
    tooLong: "メッセージが長すぎます。{max}文字以内で入力してください。",
    disconnected: "接続が切れました。再接続しています…",
    reconnected: "再接続しました。",
    newMessage: "新しいメッセージが届きました。",
    language: "言語（Language）",
    easyJapanese: "やさしい日本語",
    furigana: "ふりがな",
    settings: "表示の設定"
  };
  // The texts above are the Japanese of the catalogue (bot/i18n/messages/ja.yml, keys
  // widget.*; a test keeps them equal). Other languages come from the server: texts?lang=…
  var JAPANESE = "ja";
  var EASY_JAPANESE = "ja-easy";
  var LANGUAGES = [ // shown before the server's list arrives (the same as bot/i18n/languages.py)
    { code: "ja", name: "日本語", lang: "ja" }, { code: "ja-easy", name: "やさしい日本語", lang: "ja" },
    { code: "en", name: "English", lang: "en" }, { code: "zh-Hans", name: "简体中文", lang: "zh-Hans" },
    { code: "ko", name: "한국어", lang: "ko" }, { code: "vi", name: "Tiếng Việt", lang: "vi" },
    { code: "pt-BR", name: "Português (Brasil)", lang: "pt-BR" }, { code: "fil", name: "Filipino", lang: "fil" }
  ];

  // ---------------------------------------------------------------- configuration
  function camel(name) {
    return name.replace(/-([a-z])/g, function (_, c) { return c.toUpperCase(); });
  }

  function readConfig() {
    var data = (script && script.dataset) || {};
    var given = window.MadoguchiConfig || {};
    var texts = {};
    var key;
    for (key in DEFAULT_TEXTS) { texts[key] = DEFAULT_TEXTS[key]; }
    for (key in (given.texts || {})) { texts[key] = String(given.texts[key]); }
    // data-text-feedback-question="…" sets texts.feedbackQuestion
    for (key in data) {
      if (key.indexOf("text") === 0 && key.length > 4) {
        var name = key.charAt(4).toLowerCase() + key.slice(5);
        texts[name] = data[key];
      }
    }
    if (data.title || given.title) { texts.title = data.title || given.title; }
    var server = data.server || given.server || (script && script.src ? new URL(".", script.src).href : "/webhooks/web/");
    if (server.charAt(server.length - 1) !== "/") { server += "/"; }
    return {
      texts: texts,
      server: server,
      storage: (data.storage || given.storage || "session") === "local" ? "local" : "session",
      storageKey: data.storageKey || given.storageKey || "madoguchi-widget",
      position: (data.position || given.position) === "left" ? "left" : "right",
      stylesheet: data.stylesheet || given.stylesheet || server + "widget.css",
      reconnectMaxMs: Number(data.reconnectMaxMs || given.reconnectMaxMs) || 30000
    };
  }

  var config = readConfig();
  var JAPANESE_TEXTS = config.texts; // the defaults with the city's own wording
  var T = JAPANESE_TEXTS;

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(values, k) ? String(values[k]) : m;
    });
  }

  // ---------------------------------------------------------------- state (persisted)
  var store = (function () {
    try {
      var s = config.storage === "local" ? window.localStorage : window.sessionStorage;
      var probe = config.storageKey + "-probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null; // storage blocked: the widget still works for this page
    }
  })();

  function freshState() {
    return { v: STORAGE_VERSION, sender: null, messages: [], lastEventId: null, open: false, largeText: false, unread: 0, seq: 0,
             language: JAPANESE, furigana: null };
  }

  function loadState() {
    if (!store) { return freshState(); }
    try {
      var s = JSON.parse(store.getItem(config.storageKey) || "null");
      if (s && s.v === STORAGE_VERSION && Array.isArray(s.messages)) { return s; }
    } catch (e) { /* broken JSON: start again */ }
    return freshState();
  }

  var state = loadState();

  // True while this tab applies a change another tab made: nothing is written back, or
  // the echo (of a state read a moment ago) could overwrite what that tab wrote since.
  var applyingOtherTab = false;

  function save() {
    if (!store || applyingOtherTab) { return; }
    if (state.messages.length > MAX_HISTORY) {
      state.messages = state.messages.slice(state.messages.length - MAX_HISTORY);
    }
    try {
      store.setItem(config.storageKey, JSON.stringify(state));
    } catch (e) { /* full or blocked: keep going without persistence */ }
  }

  function newSender() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) { hex += (bytes[i] + 256).toString(16).slice(1); }
    return "web-" + hex;
  }

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    var key;
    for (key in (attrs || {})) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { continue; }
      if (key === "class") { node.className = value; }
      else if (key === "text") { node.textContent = value; }
      else if (key.indexOf("on") === 0) { node.addEventListener(key.slice(2), value); }
      else { node.setAttribute(key, value === true ? "" : String(value)); }
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function hidden(text) {
    return el("span", { class: "mdg-sr", text: text });
  }

  function safeUrl(url) {
    try {
      var u = new URL(String(url), window.location.href);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function externalLink(url, label) {
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "mdg-link" }, [
      label, hidden("（" + T.newTab + "）")
    ]);
  }

  // Text with line breaks kept (CSS pre-wrap) and http(s) addresses as links.
  function richText(text, lang) {
    var node = el("p", { class: "mdg-text", lang: lang || null });
    appendRich(node, text);
    return node;
  }

  function appendRich(node, text) {
    var parts = String(text || "").split(/(https?:\/\/[^\s　、。「」()（）<>]+)/);
    parts.forEach(function (part, i) {
      if (i % 2 === 1 && safeUrl(part)) {
        node.appendChild(externalLink(safeUrl(part), part));
      } else if (part) {
        node.appendChild(document.createTextNode(part));
      }
    });
  }

  // Japanese text with furigana: [[text, reading], …] from the server (bot/i18n/furigana.py).
  function rubyText(segments, lang) {
    var node = el("p", { class: "mdg-text mdg-ruby", lang: lang || "ja" });
    segments.forEach(function (segment) {
      if (!Array.isArray(segment)) { return; }
      var base = String(segment[0] || "");
      var reading = String(segment[1] || "");
      if (reading) {
        node.appendChild(el("ruby", {}, [base, el("rt", { text: reading })]));
      } else {
        appendRich(node, base);
      }
    });
    return node;
  }

  function furiganaOn() {
    return state.furigana === null || state.furigana === undefined ? state.language === EASY_JAPANESE : !!state.furigana;
  }

  // The body of a bot message, with furigana when they are on and the server sent them.
  function bodyText(text, custom, lang) {
    if (furiganaOn() && Array.isArray(custom.ruby) && custom.ruby.length) {
      return rubyText(custom.ruby, lang);
    }
    return richText(text, lang);
  }

  function telLink(phone) {
    var digits = String(phone).replace(/[^0-9+]/g, "");
    return digits ? el("a", { href: "tel:" + digits, class: "mdg-link" }, [String(phone)]) : String(phone);
  }

  // ---------------------------------------------------------------- the widget's DOM
  var host = el("div", { id: "madoguchi-widget" });
  host.style.cssText = "position:static;margin:0;padding:0;border:0;";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  // Nothing shows until the stylesheet is there (no flash of an unstyled button).
  var stylesheet = el("link", { rel: "stylesheet", href: config.stylesheet });
  root.appendChild(stylesheet);

  var launcherLabel = el("span", { class: "mdg-launcher-label", text: T.launcher });
  var badge = el("span", { class: "mdg-badge", hidden: true });
  var launcher = el("button", {
    type: "button", class: "mdg-launcher", "aria-expanded": "false", "aria-controls": "mdg-panel",
    onclick: function () { openPanel(true); }
  }, [chatIcon(), launcherLabel, badge]);

  var titleEl = el("h2", { id: "mdg-title", class: "mdg-title", text: T.title });
  var largeButton = el("button", {
    type: "button", class: "mdg-tool mdg-large", "aria-pressed": "false",
    onclick: function () { setLargeText(!state.largeText); }
  }, [T.largeText]);
  var newButton = el("button", { type: "button", class: "mdg-tool mdg-new", onclick: newConversation }, [T.newConversation]);
  var languageLabel = el("label", { for: "mdg-language", class: "mdg-language-label", text: T.language });
  var languageSelect = el("select", { id: "mdg-language", class: "mdg-tool mdg-language" });
  languageSelect.addEventListener("change", function () { chooseLanguage(languageSelect.value); });
  var easyButton = el("button", {
    type: "button", class: "mdg-tool mdg-easy", "aria-pressed": "false", lang: "ja",
    onclick: function () { chooseLanguage(state.language === EASY_JAPANESE ? JAPANESE : EASY_JAPANESE); }
  }, ["やさしい日本語"]);
  var furiganaButton = el("button", {
    type: "button", class: "mdg-tool mdg-furigana", "aria-pressed": "false",
    onclick: function () { setFurigana(!furiganaOn()); }
  }, [T.furigana]);
  var closeButton = el("button", { type: "button", class: "mdg-tool mdg-close", onclick: function () { closePanel(true); } }, [T.close]);

  var handoffBar = el("div", { class: "mdg-handoff-bar", hidden: true });
  var log = el("div", {
    class: "mdg-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": T.conversationLabel, tabindex: "0"
  });
  var statusEl = el("div", { class: "mdg-status", role: "status", "aria-live": "polite" });
  var input = el("input", {
    id: "mdg-input", class: "mdg-input", type: "text", autocomplete: "off", enterkeyhint: "send",
    maxlength: String(MAX_CHARS), placeholder: T.placeholder
  });
  var sendButton = el("button", { type: "submit", class: "mdg-send" }, [T.send]);
  var form = el("form", { class: "mdg-form", novalidate: true }, [
    el("label", { for: "mdg-input", class: "mdg-sr", text: T.inputLabel }), input, sendButton
  ]);
  var privacyNote = el("p", { class: "mdg-note", text: T.privacyNote });
  var panel = el("div", {
    id: "mdg-panel", class: "mdg-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "mdg-title", hidden: true
  }, [
    el("div", { class: "mdg-header" }, [
      el("div", { class: "mdg-header-row" }, [titleEl, closeButton]),
      el("div", { class: "mdg-tools", role: "group", "aria-label": T.settings }, [largeButton, newButton]),
      el("div", { class: "mdg-tools mdg-lang-tools" }, [languageLabel, languageSelect, easyButton, furiganaButton])
    ]),
    handoffBar,
    log,
    statusEl,
    form,
    privacyNote
  ]);
  var announcer = el("div", { class: "mdg-sr", role: "status", "aria-live": "polite" });
  var container = el("div", { class: "mdg mdg-" + config.position, lang: "ja" }, [launcher, panel, announcer]);
  container.style.visibility = "hidden";
  function reveal() {
    container.style.visibility = "";
    container.setAttribute("data-ready", "true");
  }
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);
  root.appendChild(container);

  // A decorative 24×24 icon (hidden from screen readers): one filled path.
  function icon(cls, d) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", cls);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function chatIcon() {
    return icon("mdg-icon", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  }

  // ---------------------------------------------------------------- rendering messages
  function renderMessage(record) {
    if (record.role === "user") {
      return el("div", { class: "mdg-msg mdg-user", "data-id": record.id }, [
        hidden(T.you + "："), richText(record.text, record.lang)
      ]);
    }
    if (record.role === "notice") {
      return el("div", { class: "mdg-msg mdg-notice", "data-id": record.id }, [el("p", { class: "mdg-text", text: record.text })]);
    }
    var custom = record.custom || {};
    var type = custom.type || "text";
    var body = [];
    var cls = "mdg-msg mdg-bot mdg-type-" + String(type).replace(/[^a-z_]/g, "");
    var lang = validLang(custom.lang) || JAPANESE; // the message's language (staff write Japanese)
    if (type === "staff") {
      var who = custom.staff_name ? fill(T.staffNamed, { name: custom.staff_name }) : T.staff;
      body.push(el("p", { class: "mdg-from mdg-from-staff" }, [staffIcon(), who]));
      cls += " mdg-staff";
    } else {
      body.push(hidden(T.bot + "："));
    }
    if (type === "handoff") {
      body.push(handoffStatus(custom));
    }
    if (type === "answer" && typeof custom.body === "string") {
      // The answer's own text (Japanese when not yet translated), then the note in the resident's language.
      body.push(bodyText(custom.body, custom, validLang(custom.body_lang) || lang));
      if (custom.note) { body.push(el("p", { class: "mdg-note-translation", lang: lang, text: String(custom.note) })); }
    } else {
      body.push(bodyText(type === "answer" ? answerBody(record.text, custom) : record.text, custom, lang));
    }
    if (type === "answer") {
      body.push(answerDetails(custom));
    }
    if (type === "cannot_answer" && custom.contact) {
      body.push(el("p", { class: "mdg-contact" }, [el("strong", { text: T.contact + "：" }), String(custom.contact)]));
    }
    if (record.buttons && record.buttons.length) {
      body.push(choiceButtons(record));
    }
    if (type === "answer") {
      body.push(feedbackBlock(record));
    }
    return el("div", { class: cls, "data-id": record.id, lang: lang }, body);
  }

  // A BCP 47 tag as our server sends them (anything else is not put into the page).
  function validLang(value) {
    return typeof value === "string" && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(value) ? value : null;
  }

  function staffIcon() {
    return icon("mdg-icon-small", "M12 12a5 5 0 1 0 0-10 5 5 0 0 0 0 10zm0 2c-5 0-9 2.5-9 5.5V22h18v-2.5C21 16.5 17 14 12 14z");
  }

  // The answer text ends with 「詳しくは: URL」 and 「お問い合わせ：…」 lines; they are shown
  // as structured details below, so they are taken off the text when those fields exist.
  function answerBody(text, custom) {
    var lines = String(text || "").split("\n");
    while (lines.length > 1) {
      var last = lines[lines.length - 1];
      if ((custom.department && last.indexOf("お問い合わせ：") === 0) || (custom.url && last.indexOf("詳しくは") === 0)) {
        lines.pop();
      } else {
        break;
      }
    }
    return lines.join("\n");
  }

  function answerDetails(custom) {
    var items = [];
    var dept = custom.department;
    if (dept && dept.name) {
      var parts = [el("strong", { text: T.department + "：" }), dept.name];
      if (dept.place) { parts.push("（" + dept.place + "）"); }
      if (dept.phone) { parts.push(el("br"), T.phone + "：", telLink(dept.phone)); }
      items.push(el("p", { class: "mdg-dept" }, parts));
    }
    var url = custom.url && safeUrl(custom.url);
    if (url) {
      items.push(el("p", { class: "mdg-more" }, [externalLink(url, T.moreInfo)]));
    }
    return items.length ? el("div", { class: "mdg-details" }, items) : null;
  }

  // The status line of a hand-off message; withQueue adds how many are ahead
  // (queue_position: 0 = next), for the bar above the conversation.
  function handoffStatus(custom, withQueue) {
    var status = custom.status;
    var lines = [];
    if (status === "queued") {
      lines.push(el("strong", { class: "mdg-pending", text: T.handoffQueued }));
      var ahead = custom.queue_position;
      if (withQueue && typeof ahead === "number" && ahead >= 0) {
        lines.push(el("span", { class: "mdg-queue", text: ahead === 0 ? T.queueNext : fill(T.queueAhead, { n: ahead }) }));
      }
    } else if (status === "claimed") {
      lines.push(el("strong", {
        text: custom.staff_name ? fill(T.handoffClaimed, { name: custom.staff_name }) : T.handoffClaimedNoName
      }));
    }
    if (!lines.length) { return null; }
    return el("p", { class: "mdg-handoff-status" }, lines);
  }

  function choiceButtons(record) {
    var group = el("div", { class: "mdg-choices", role: "group", "aria-label": T.choices });
    record.buttons.forEach(function (button, index) {
      var chosen = record.chosen === index;
      group.appendChild(el("button", {
        type: "button", class: "mdg-choice" + (chosen ? " mdg-chosen" : ""),
        disabled: record.chosen !== undefined && record.chosen !== null,
        onclick: function () { choose(record, index); }
      }, [String(button.title || button.payload), chosen ? hidden("（" + T.chosen + "）") : null]));
    });
    return group;
  }

  function feedbackBlock(record) {
    if (record.feedback) {
      return el("p", { class: "mdg-feedback mdg-feedback-done" }, [
        T.feedbackQuestion + " " + (record.feedback === "yes" ? T.feedbackYes : T.feedbackNo) + "　" + T.feedbackThanks
      ]);
    }
    var question = el("span", { class: "mdg-feedback-q", id: "mdg-fq-" + record.id, text: T.feedbackQuestion });
    return el("div", { class: "mdg-feedback", role: "group", "aria-labelledby": "mdg-fq-" + record.id }, [
      question,
      el("button", { type: "button", class: "mdg-fb mdg-fb-yes", onclick: function () { giveFeedback(record, "yes"); } }, [T.feedbackYes]),
      el("button", { type: "button", class: "mdg-fb mdg-fb-no", onclick: function () { giveFeedback(record, "no"); } }, [T.feedbackNo])
    ]);
  }

  // Updates change the message in place: replacing it whole would make screen readers
  // read it again from the live region.
  function messageNode(record) {
    return log.querySelector('[data-id="' + record.id + '"]');
  }

  function markChosen(record) {
    var node = messageNode(record);
    if (!node) { return; }
    Array.prototype.forEach.call(node.querySelectorAll(".mdg-choice"), function (button, index) {
      button.disabled = true;
      if (index === record.chosen) {
        button.classList.add("mdg-chosen");
        button.appendChild(hidden("（" + T.chosen + "）"));
      }
    });
  }

  function markFeedback(record) {
    var node = messageNode(record);
    var old = node && node.querySelector(".mdg-feedback");
    if (old) { old.replaceWith(feedbackBlock(record)); }
  }

  function scrollToMessage(node, isBot) {
    // A long answer is read from its start; the resident's own message just goes to the end.
    var top = isBot ? node.offsetTop - log.offsetTop - 8 : log.scrollHeight;
    log.scrollTop = Math.max(0, top);
  }

  function addRecord(record) {
    state.seq = (state.seq || 0) + 1;
    record.id = state.seq;
    state.messages.push(record);
    save();
    var node = renderMessage(record);
    log.appendChild(node);
    if (!panel.hidden) { scrollToMessage(node, record.role === "bot"); }
    if (record.role === "bot") {
      updateHandoffBar();
      if (panel.hidden) {
        state.unread = (state.unread || 0) + 1;
        save();
        updateLauncher();
        announce(T.newMessage);
      }
    }
    return record;
  }

  function addBotMessage(message) {
    var custom = message.custom && typeof message.custom === "object" ? message.custom : null;
    if (custom && typeof custom.language === "string" && custom.language !== state.language && isLanguage(custom.language)) {
      // The assistant answers in the language it detected (or the resident chose): the widget follows.
      setLanguage(custom.language);
    }
    return addRecord({
      role: "bot",
      text: String(message.text || ""),
      buttons: Array.isArray(message.buttons) ? message.buttons.filter(function (b) { return b && b.payload; }) : [],
      custom: message.custom && typeof message.custom === "object" ? message.custom : null
    });
  }

  function addNotice(text) {
    return addRecord({ role: "notice", text: text });
  }

  function renderAll() {
    log.textContent = "";
    log.appendChild(el("div", { class: "mdg-msg mdg-bot mdg-greeting", lang: uiLang() }, [hidden(T.bot + "："), richText(T.greeting)]));
    state.messages.forEach(function (record) { log.appendChild(renderMessage(record)); });
    updateHandoffBar();
  }

  // The latest hand-off state stays visible above the conversation while it lasts.
  function updateHandoffBar() {
    var latest = null;
    for (var i = state.messages.length - 1; i >= 0; i--) {
      var c = state.messages[i].custom;
      if (c && c.type === "handoff") { latest = c; break; }
    }
    handoffBar.textContent = "";
    var status = latest && handoffStatus(latest, true);
    handoffBar.hidden = !status;
    if (status) {
      handoffBar.appendChild(hidden(T.handoff + "："));
      handoffBar.appendChild(status);
    }
  }

  function updateLauncher() {
    var n = state.unread || 0;
    badge.hidden = n === 0;
    badge.textContent = n ? String(n) : "";
    launcher.setAttribute("aria-label", n ? T.launcher + "（" + fill(T.unread, { n: n }) + "）" : T.launcher);
  }

  var announceTimer = null;
  function announce(text) {
    announcer.textContent = "";
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function setStatus(text) {
    statusEl.textContent = text || "";
  }

  // ---------------------------------------------------------------- panel
  var smallScreen = window.matchMedia ? window.matchMedia("(max-width: 30em), (max-height: 30em)") : null;

  function openPanel(moveFocus) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    container.classList.add("mdg-open");
    state.open = true;
    state.unread = 0;
    save();
    updateLauncher();
    log.scrollTop = log.scrollHeight;
    if (moveFocus) { input.focus(); }
  }

  function closePanel(moveFocus) {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    container.classList.remove("mdg-open");
    state.open = false;
    save();
    if (moveFocus) { launcher.focus(); }
  }

  function setLargeText(on) {
    state.largeText = !!on;
    save();
    container.classList.toggle("mdg-large-text", state.largeText);
    largeButton.setAttribute("aria-pressed", state.largeText ? "true" : "false");
  }

  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button, a[href], input, [tabindex]"),
      function (n) { return !n.disabled && !n.hidden && n.getAttribute("tabindex") !== "-1" && n.getClientRects().length > 0; }
    );
  }

  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel(true);
      return;
    }
    // Full screen on a phone: the page behind is covered, so Tab stays in the panel.
    if (event.key === "Tab" && smallScreen && smallScreen.matches) {
      var items = focusables();
      if (!items.length) { return; }
      var first = items[0];
      var last = items[items.length - 1];
      var active = root.activeElement || document.activeElement;
      if (event.shiftKey && active === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && active === last) { event.preventDefault(); first.focus(); }
    }
  });

  function updateModality() {
    panel.setAttribute("aria-modal", smallScreen && smallScreen.matches ? "true" : "false");
  }
  if (smallScreen) {
    if (smallScreen.addEventListener) { smallScreen.addEventListener("change", updateModality); }
    else if (smallScreen.addListener) { smallScreen.addListener(updateModality); }
  }

  // ---------------------------------------------------------------- languages
  var textsCache = {};

  function isLanguage(code) {
    return LANGUAGES.some(function (l) { return l.code === code; });
  }

  function uiLang() {
    for (var i = 0; i < LANGUAGES.length; i++) {
      if (LANGUAGES[i].code === state.language) { return LANGUAGES[i].lang; }
    }
    return JAPANESE;
  }

  function fillLanguageMenu() {
    languageSelect.textContent = "";
    LANGUAGES.forEach(function (l) {
      languageSelect.appendChild(el("option", { value: l.code, lang: l.lang, selected: l.code === state.language }, [l.name]));
    });
    languageSelect.value = state.language || JAPANESE;
  }

  // The widget's texts in a language: Japanese is built in, the others come from the catalogue.
  function loadTexts(code) {
    if (code === JAPANESE || code === undefined || code === null) { return Promise.resolve(JAPANESE_TEXTS); }
    if (textsCache[code]) { return Promise.resolve(textsCache[code]); }
    return fetch(config.server + "texts?lang=" + encodeURIComponent(code)).then(function (resp) {
      return resp.ok ? resp.json() : null;
    }).then(function (body) {
      if (!body || !body.texts) { return JAPANESE_TEXTS; }
      if (Array.isArray(body.languages) && body.languages.length) { LANGUAGES = body.languages; }
      var texts = {};
      var key;
      for (key in DEFAULT_TEXTS) { texts[key] = DEFAULT_TEXTS[key]; }
      for (key in body.texts) { texts[key] = String(body.texts[key]); }
      textsCache[code] = texts;
      return texts;
    }).catch(function () { return JAPANESE_TEXTS; });
  }

  // Show the widget in a language (the assistant's replies follow the conversation).
  function setLanguage(code) {
    state.language = isLanguage(code) ? code : JAPANESE;
    save();
    var wanted = state.language;
    return loadTexts(wanted).then(function (texts) {
      if (state.language !== wanted) { return; } // changed again meanwhile
      T = texts;
      applyTexts();
    });
  }

  // The resident chose a language: the widget and the assistant both switch (the choice wins over detection).
  function chooseLanguage(code) {
    state.furigana = null; // back to the language's default: on in やさしい日本語, off otherwise
    setLanguage(code);
    send('/set_language{"language": "' + state.language + '"}', false);
  }

  function setFurigana(on) {
    state.furigana = !!on;
    save();
    applyTexts();
  }

  function applyTexts() {
    container.setAttribute("lang", uiLang());
    launcherLabel.textContent = T.launcher;
    titleEl.textContent = T.title;
    largeButton.textContent = T.largeText;
    newButton.textContent = T.newConversation;
    closeButton.textContent = T.close;
    languageLabel.textContent = T.language;
    furiganaButton.textContent = T.furigana;
    easyButton.setAttribute("aria-pressed", state.language === EASY_JAPANESE ? "true" : "false");
    furiganaButton.setAttribute("aria-pressed", furiganaOn() ? "true" : "false");
    input.setAttribute("placeholder", T.placeholder);
    form.querySelector("label").textContent = T.inputLabel;
    sendButton.textContent = T.send;
    privacyNote.textContent = T.privacyNote;
    log.setAttribute("aria-label", T.conversationLabel);
    panel.querySelector(".mdg-tools").setAttribute("aria-label", T.settings);
    fillLanguageMenu();
    updateLauncher();
    renderAll();
  }

  // ---------------------------------------------------------------- talking to the server
  var pending = 0;

  function ensureSender() {
    if (!state.sender) {
      state.sender = newSender();
      state.lastEventId = null;
      save();
    }
    connectStream();
    return state.sender;
  }

  function send(text, shown) {
    var message = String(text || "").trim();
    if (!message) { return; }
    if (message.length > MAX_CHARS) {
      setStatus(fill(T.tooLong, { max: MAX_CHARS }));
      return;
    }
    var sender = ensureSender();
    if (shown !== false) { addRecord({ role: "user", text: shown || message }); }
    pending += 1;
    setStatus(T.waiting);
    form.setAttribute("aria-busy", "true");
    return fetch(config.server + "webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message })
    }).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (body) {
        if (sender !== state.sender) { return; } // a new conversation was started meanwhile
        if (!resp.ok) {
          addNotice((body && body.message) || T.sendFailed);
          return;
        }
        (Array.isArray(body) ? body : []).forEach(addBotMessage);
      });
    }).catch(function () {
      if (sender === state.sender) { addNotice(T.sendFailed); }
      if (shown === undefined && !input.value) { input.value = message; }
    }).then(function () {
      pending -= 1;
      if (!pending) {
        setStatus("");
        form.removeAttribute("aria-busy");
      }
    });
  }

  function choose(record, index) {
    var button = record.buttons[index];
    if (!button || (record.chosen !== undefined && record.chosen !== null)) { return; }
    record.chosen = index;
    save();
    markChosen(record);
    input.focus(); // the pressed button is now disabled; keep keyboard users in the panel
    send(button.payload, String(button.title || button.payload));
  }

  function giveFeedback(record, value) {
    if (record.feedback) { return; }
    record.feedback = value;
    save();
    markFeedback(record);
    input.focus();
    send(value === "yes" ? "/feedback_positive" : "/feedback_negative", false);
  }

  function newConversation() {
    disconnectStream();
    var keep = { open: state.open, largeText: state.largeText, language: state.language, furigana: state.furigana };
    state = freshState();
    state.open = keep.open;
    state.largeText = keep.largeText;
    state.language = keep.language;
    state.furigana = keep.furigana;
    save();
    renderAll();
    setStatus("");
    announce(T.newConversationStarted);
    input.value = "";
    input.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { input.focus(); return; }
    input.value = "";
    send(text);
  });

  input.addEventListener("keydown", function (event) {
    // Enter that confirms a Japanese IME conversion must not send the message.
    if (event.key === "Enter" && (event.isComposing || event.keyCode === 229)) {
      event.preventDefault();
    }
  });

  // ---------------------------------------------------------------- live delivery (SSE)
  var source = null;
  var retryTimer = null;
  var retryDelay = 1000;
  var disconnectedAt = null;

  function connectStream() {
    if (source || !state.sender || !window.EventSource) { return; }
    window.clearTimeout(retryTimer);
    var url = config.server + "events?sender=" + encodeURIComponent(state.sender);
    if (state.lastEventId) { url += "&last_event_id=" + encodeURIComponent(state.lastEventId); }
    var es = new EventSource(url);
    source = es;
    es.addEventListener("ready", function (event) {
      remember(event.lastEventId);
      retryDelay = 1000;
      if (disconnectedAt !== null) {
        disconnectedAt = null;
        if (statusEl.textContent === T.disconnected) { setStatus(T.reconnected); }
        window.setTimeout(function () { if (statusEl.textContent === T.reconnected) { setStatus(""); } }, 3000);
      }
      container.setAttribute("data-stream", "open");
    });
    es.addEventListener("message", function (event) {
      var id = Number(event.lastEventId);
      if (id && state.lastEventId && id <= Number(state.lastEventId)) { return; } // already shown
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      // The id is saved together with the message (by addBotMessage): another tab never
      // sees the id without the message, which would make it drop its own copy.
      remember(event.lastEventId, false);
      addBotMessage(message);
    });
    es.addEventListener("error", function () {
      if (source !== es) { return; }
      container.setAttribute("data-stream", "reconnecting");
      if (disconnectedAt === null) {
        disconnectedAt = Date.now();
        // Only say so when it lasts: a stream closed by the server reconnects at once.
        window.setTimeout(function () {
          if (disconnectedAt !== null && Date.now() - disconnectedAt >= 2000 && !pending) { setStatus(T.disconnected); }
        }, 2100);
      }
      if (es.readyState === 2) {
        // The browser gave up (e.g. an error page from a proxy): retry ourselves, slower each time.
        source = null;
        es.close();
        retryTimer = window.setTimeout(connectStream, retryDelay);
        retryDelay = Math.min(retryDelay * 2, config.reconnectMaxMs);
      }
    });
  }

  function remember(id, persist) {
    if (id && (!state.lastEventId || Number(id) > Number(state.lastEventId))) {
      state.lastEventId = String(id);
      if (persist !== false) { save(); }
    }
  }

  function disconnectStream() {
    window.clearTimeout(retryTimer);
    if (source) { source.close(); source = null; }
    disconnectedAt = null;
    container.removeAttribute("data-stream");
  }

  // data-storage="local": another tab of the same site changed the conversation.
  window.addEventListener("storage", function (event) {
    if (!store || event.storageArea !== store || event.key !== config.storageKey) { return; }
    var before = state.sender;
    applyingOtherTab = true;
    try {
      state = loadState();
      state.open = !panel.hidden; // each tab keeps its own panel open or closed
      setLanguage(state.language);
      renderAll();
      setLargeText(state.largeText);
      updateLauncher();
    } finally {
      applyingOtherTab = false;
    }
    if (state.sender !== before) {
      disconnectStream();
      if (state.sender) { connectStream(); }
    }
  });

  window.addEventListener("online", function () {
    if (source && source.readyState !== 1) { disconnectStream(); }
    connectStream();
  });

  // ---------------------------------------------------------------- start
  function start() {
    document.body.appendChild(host);
    if (!isLanguage(state.language)) { state.language = JAPANESE; }
    fillLanguageMenu();
    if (state.language !== JAPANESE) { setLanguage(state.language); } else { applyTexts(); }
    renderAll();
    setLargeText(state.largeText);
    updateLauncher();
    updateModality();
    if (state.open) { openPanel(false); } // after a page change: open again, without taking focus
    if (state.sender) { connectStream(); }
  }

  window.MadoguchiWidget = {
    open: function () { openPanel(true); },
    close: function () { closePanel(true); },
    send: function (text) { return send(text); },
    newConversation: newConversation,
    setLanguage: chooseLanguage,
    config: config
  };

  if (document.body) { start(); }
  else { document.addEventListener("DOMContentLoaded", start); }
})();
