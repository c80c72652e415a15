// Hotline console: SLA countdowns, keyboard navigation, the reply composer and live
// updates. Pages work without it; this only makes them quicker to use.
"use strict";

(function () {
  const body = document.body;
  const en = body.dataset.lang === "en";
  // The server's clock, not the browser's, decides how much time is left.
  const skew = body.dataset.now ? Date.parse(body.dataset.now) - Date.now() : 0;
  const now = () => Date.now() + skew;

  // --- SLA countdowns: green, amber from the warning point, red once missed. ---
  function span(ms) {
    const m = Math.floor(Math.abs(ms) / 60000);
    const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (d > 0) return d + (en ? "d " : "天") + h + (en ? "h" : "时");
    if (h > 0) return h + (en ? "h " : "时") + mm + (en ? "m" : "分");
    const s = Math.floor(Math.abs(ms) / 1000) % 60;
    return mm + (en ? "m " : "分") + s + (en ? "s" : "秒");
  }
  function tick() {
    const t = now();
    document.querySelectorAll(".sla[data-due]").forEach((el) => {
      const due = Date.parse(el.dataset.due), warn = Date.parse(el.dataset.warn);
      const left = due - t;
      const state = left <= 0 ? "breach" : t >= warn ? "warn" : "ok";
      if (!el.classList.contains(state) || el.dataset.state !== state) {
        el.classList.remove("ok", "warn", "breach");
        el.classList.add(state);
        el.dataset.state = state;
      }
      el.textContent = left <= 0 ? (en ? "overdue " : "已超时 ") + span(left) : span(left) + (en ? " left" : "");
    });
  }
  tick();
  setInterval(tick, 1000);

  // --- Keyboard: j/k move, Enter opens, r replies, n notes, / searches, Ctrl+Enter sends. ---
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  function rows() { return Array.from(document.querySelectorAll("#queue-rows tr[data-href]")); }
  function select(i) {
    const rs = rows();
    if (!rs.length) return;
    i = Math.max(0, Math.min(rs.length - 1, i));
    rs.forEach((r) => r.classList.remove("sel"));
    rs[i].classList.add("sel");
    rs[i].scrollIntoView({ block: "nearest" });
  }
  function selected() { return rows().findIndex((r) => r.classList.contains("sel")); }
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.form) {
      e.preventDefault();
      e.target.form.requestSubmit();
      return;
    }
    if (e.key === "Escape" && typing(e.target)) { e.target.blur(); return; }
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const queue = document.getElementById("queue-rows");
    if (queue && (e.key === "j" || e.key === "k")) {
      e.preventDefault();
      const i = selected();
      select(i < 0 ? 0 : i + (e.key === "j" ? 1 : -1));
    } else if (queue && (e.key === "Enter" || e.key === "o")) {
      const r = rows()[selected()];
      if (r) location.href = r.dataset.href;
    } else if (queue && e.key === "r") {
      const r = rows()[selected()];
      if (r) location.href = r.dataset.href + "#reply";
    } else if (e.key === "r" && document.getElementById("reply-body")) {
      e.preventDefault();
      showTab("reply-form");
      document.getElementById("reply-body").focus();
    } else if (e.key === "n" && document.getElementById("note-body")) {
      e.preventDefault();
      showTab("note-form");
      document.getElementById("note-body").focus();
    } else if (e.key === "/") {
      const s = document.getElementById("search");
      if (s) { e.preventDefault(); s.focus(); s.select(); }
    }
  });
  document.addEventListener("click", (e) => {
    const tr = e.target.closest("#queue-rows tr[data-href]");
    if (tr && !e.target.closest("a")) location.href = tr.dataset.href;
  });

  // --- Reply composer: the tabs, SMS segments, the WeChat window. ---
  function showTab(id) {
    document.querySelectorAll(".composer-tabs button").forEach((b) => b.classList.toggle("on", b.dataset.tab === id));
    document.querySelectorAll(".composer .tab-pane").forEach((p) => { p.hidden = p.id !== id; });
  }
  document.querySelectorAll(".composer-tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  if (location.hash === "#reply" && document.getElementById("reply-body")) {
    showTab("reply-form");
    document.getElementById("reply-body").focus();
  }

  // GSM 03.38: characters outside it force UCS-2, 70 characters a message instead of 160.
  const gsm = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const gsmExt = "^{}\\[~]|€\f";
  // How many messages a text is sent as: one up to 160 septets (GSM-7) or 70 UTF-16 units
  // (UCS-2); beyond that, parts of 153 or 67, and an escaped GSM character or a surrogate
  // pair (an emoji) is never split between two parts.
  function smsSegments(text) {
    const chars = Array.from(text);
    const unicode = chars.some((ch) => !gsm.includes(ch) && !gsmExt.includes(ch));
    const costs = chars.map((ch) => (unicode ? ch.length : gsmExt.includes(ch) ? 2 : 1));
    const total = costs.reduce((a, b) => a + b, 0);
    const [single, part] = unicode ? [70, 67] : [160, 153];
    let n = total === 0 ? 0 : 1;
    if (total > single) {
      let used = 0;
      for (const c of costs) {
        if (used + c > part) { n++; used = 0; }
        used += c;
      }
    }
    return { n: n, chars: total, enc: unicode ? "UCS-2" : "GSM-7" };
  }
  const replyBody = document.getElementById("reply-body");
  const channel = document.getElementById("reply-channel");
  const segs = document.getElementById("segments");
  const win = document.getElementById("wechat-window");
  function composer() {
    if (!replyBody || !channel) return;
    const ch = channel.value;
    if (segs) {
      if (ch === "sms") {
        const s = smsSegments(replyBody.value);
        let i = 0;
        const args = [s.n, s.chars, s.enc];
        segs.textContent = segs.dataset.fmt.replace(/%[ds]/g, () => args[i++]);
      } else segs.textContent = "";
    }
    if (win) win.hidden = ch !== "wechat";
    checkFiles();
  }
  // The files a reply carries: the chosen channel's limits said before sending, and a
  // file past them named at once (the server refuses it too).
  const files = document.getElementById("reply-files");
  const fileLimits = document.getElementById("file-limits");
  const fileProblem = document.getElementById("file-problem");
  function fmt(s, args) { let i = 0; return s.replace(/%[ds]/g, () => args[i++]); }
  function mb(n) { return (n / 1048576).toFixed(1).replace(/\.0$/, "") + " MB"; }
  function checkFiles() {
    if (!files || !channel) return true;
    const o = document.querySelector('.file-rule[data-channel="' + channel.value + '"]');
    if (!o) return true;
    const d = o.dataset, max = Number(d.maxFiles || 0);
    fileLimits.textContent = d.files || "";
    files.accept = d.accept || "";
    files.disabled = max === 0;
    const list = Array.from(files.files);
    const accepted = (d.accept || "").split(",").filter(Boolean);
    let problem = "", total = 0;
    if (list.length > max) problem = fmt(fileProblem.dataset.tooMany, [max]);
    for (const f of list) {
      total += f.size;
      const ext = f.name.includes(".") ? f.name.slice(f.name.lastIndexOf(".")).toLowerCase() : "";
      if (!problem && !accepted.includes(ext)) problem = fmt(fileProblem.dataset.type, [f.name]);
      if (!problem && f.size > Number(d.maxFile)) problem = fmt(fileProblem.dataset.tooBig, [f.name, mb(Number(d.maxFile))]);
    }
    if (!problem && total > Number(d.maxTotal)) problem = fmt(fileProblem.dataset.total, [mb(Number(d.maxTotal))]);
    fileProblem.textContent = problem;
    fileProblem.hidden = !problem;
    return !problem;
  }
  if (files) {
    files.addEventListener("change", checkFiles);
    files.form.addEventListener("submit", (e) => { if (!checkFiles()) e.preventDefault(); });
  }
  if (replyBody) {
    replyBody.addEventListener("input", composer);
    channel && channel.addEventListener("change", composer);
    composer();
  }

  // --- Live updates over Server-Sent Events. ---
  const queue = document.getElementById("queue");
  const ticket = document.getElementById("ticket");
  const page = queue || ticket;
  if (!page || !window.EventSource) return;
  const me = Number(body.dataset.agent), team = Number(body.dataset.team);
  const state = document.getElementById("live-state");
  const es = new EventSource("/live?after=" + encodeURIComponent(page.dataset.after || "0"));
  es.onopen = () => { if (state) state.classList.remove("off"); };
  es.onerror = () => { if (state) state.classList.add("off"); };

  let pending = null;
  function later(fn) {
    clearTimeout(pending);
    pending = setTimeout(fn, 250);
  }
  function concernsQueue(c) {
    if (document.querySelector('#queue-rows tr[data-ref="' + c.ticket + '"]')) return true;
    switch (queue.dataset.view) {
      case "mine": return c.assignee === me;
      case "team": return c.team === team;
      case "unassigned": return !c.assignee;
      default: return true;
    }
  }
  async function refreshQueue(fresh) {
    const url = new URL(location.href);
    url.searchParams.set("partial", "1");
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) return;
    const tbody = document.getElementById("queue-rows");
    const sel = (tbody.querySelector("tr.sel") || {}).dataset;
    tbody.innerHTML = await res.text();
    fresh.forEach((ref) => { const r = tbody.querySelector('tr[data-ref="' + ref + '"]'); if (r) r.classList.add("fresh"); });
    if (sel) { const r = tbody.querySelector('tr[data-ref="' + sel.ref + '"]'); if (r) r.classList.add("sel"); }
    tick();
  }
  async function refreshTicket() {
    const url = new URL(location.href);
    url.hash = "";
    url.searchParams.set("partial", "timeline");
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) return;
    const wrap = document.getElementById("timeline-wrap");
    const before = new Set(Array.from(wrap.querySelectorAll(".msg")).map((m) => m.id));
    wrap.innerHTML = await res.text();
    wrap.querySelectorAll(".msg").forEach((m) => { if (!before.has(m.id)) m.classList.add("fresh"); });
    const changed = document.getElementById("changed");
    if (changed) changed.hidden = false;
    tick();
  }
  const fresh = new Set();
  es.addEventListener("change", (e) => {
    const c = JSON.parse(e.data);
    if (queue && concernsQueue(c)) {
      fresh.add(c.ticket);
      later(() => { refreshQueue(Array.from(fresh)); fresh.clear(); });
    } else if (ticket && c.ticket === ticket.dataset.ref) {
      later(refreshTicket);
    }
  });
})();
