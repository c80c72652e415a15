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
      // The clock's name (first response or resolution) stays; the time left is redrawn.
      (el.querySelector(".left") || el).textContent = left <= 0 ? (en ? "overdue " : "已超时 ") + span(left) : span(left) + (en ? " left" : "");
    });
  }
  tick();
  setInterval(tick, 1000);

  // --- Keyboard: j/k move, Enter opens, r replies, n notes, / searches, Ctrl+Enter sends,
  // Ctrl+Shift+Enter sends and resolves, t takes, e resolves, ? lists them all. ---
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
  const help = document.getElementById("shortcuts");
  // The help is a dialog: it takes the focus when it opens (so a screen reader reads it)
  // and gives it back when it closes.
  let helpFrom = null;
  function toggleHelp(show) {
    if (!help || help.hidden === !show) return;
    help.hidden = !show;
    if (show) {
      helpFrom = document.activeElement;
      help.querySelector(".card").focus();
    } else if (helpFrom && helpFrom.focus) {
      helpFrom.focus();
    }
  }
  document.querySelectorAll("[data-shortcuts]").forEach((b) => b.addEventListener("click", () => toggleHelp(true)));
  if (help) help.addEventListener("click", (e) => { if (e.target === help) toggleHelp(false); });
  // A button the ticket page offers, clicked from the keyboard; none when it is not
  // offered (another page's button of the same name, a complaint's "Take it", has no key).
  function press(id) {
    const b = document.querySelector("#ticket #" + id);
    if (b) b.click();
    return !!b;
  }
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.form) {
      e.preventDefault();
      const resolve = e.shiftKey && e.target.form.querySelector("#send-resolve");
      e.target.form.requestSubmit(resolve || undefined);
      return;
    }
    if (e.key === "Enter" && e.target.id === "stage-select" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      e.target.form.requestSubmit();
      return;
    }
    if (e.key === "Escape" && help && !help.hidden) { toggleHelp(false); return; }
    if (e.key === "Escape" && typing(e.target)) { e.target.blur(); return; }
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "?") { e.preventDefault(); toggleHelp(help && help.hidden); return; }
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
    } else if (e.key === "t" && press("take")) {
      e.preventDefault();
    } else if (e.key === "e" && press("resolve")) {
      e.preventDefault();
    } else if (e.key === "s" && document.querySelector("#ticket #stage-select")) {
      // The progress stage: the next one is preselected, so s then Enter moves on.
      e.preventDefault();
      document.getElementById("stage-select").focus();
    } else if (e.key === "/") {
      const s = document.getElementById("search");
      if (s) { e.preventDefault(); s.focus(); s.select(); }
    }
  });
  document.addEventListener("click", (e) => {
    const tr = e.target.closest("#queue-rows tr[data-href], #customer-tickets tr[data-href]");
    if (tr && !e.target.closest("a")) location.href = tr.dataset.href;
  });

  // --- Drafts: what is typed in a reply or note is kept in this browser until a send
  // succeeds, so a form that expired (a stale page, a session that ended) loses nothing.
  // A send marks the draft; the next page clears it unless that page says the form failed.
  const draftKey = (k) => "hotline.draft." + k;
  const store = (() => { try { return window.localStorage; } catch (e) { return null; } })();
  if (store) {
    const failed = document.querySelector("[data-form-failed], .flash.error");
    let sent = null;
    try { sent = JSON.parse(sessionStorage.getItem("hotline.sent") || "null"); } catch (e) { /* none */ }
    sessionStorage.removeItem("hotline.sent");
    if (sent && !failed) store.removeItem(draftKey(sent.key));
    if (sent && failed) {
      // Back to the page the form was on, signing in again first when that is what failed.
      document.querySelectorAll("[data-form-failed] a[href]").forEach((a) => {
        a.href = a.getAttribute("href") === "/login" ? "/login?next=" + encodeURIComponent(sent.page) : sent.page;
      });
    }
    document.querySelectorAll("textarea[data-draft]").forEach((ta) => {
      const key = ta.dataset.draft;
      const kept = store.getItem(draftKey(key));
      if (kept && !ta.value) {
        ta.value = kept;
        const note = document.createElement("p");
        note.className = "draft-kept";
        note.setAttribute("role", "status");
        note.textContent = ta.dataset.draftKept || "";
        ta.before(note);
        const pane = ta.closest(".tab-pane");
        if (pane && pane.hidden) showTab(pane.id);
      }
      ta.addEventListener("input", () => {
        if (ta.value) store.setItem(draftKey(key), ta.value); else store.removeItem(draftKey(key));
      });
      ta.form.addEventListener("submit", () => {
        if (ta.value) store.setItem(draftKey(key), ta.value);
        sessionStorage.setItem("hotline.sent", JSON.stringify({ key: key, page: location.pathname + location.search }));
      });
    });
    // Signing out leaves no customer's words behind in the browser.
    document.querySelectorAll('form[action="/logout"]').forEach((f) => f.addEventListener("submit", () => {
      Object.keys(store).filter((k) => k.startsWith("hotline.draft.")).forEach((k) => store.removeItem(k));
    }));
  }

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

  // --- A complaint's decision is confirmed in a dialog showing the customer's text: the
  // server's own confirmation page, fetched; without JavaScript that page opens instead.
  const decide = document.getElementById("decide-form");
  if (decide && window.HTMLDialogElement) {
    decide.addEventListener("submit", async (e) => {
      e.preventDefault();
      let page = null;
      try {
        const res = await fetch(decide.action, { method: "POST", body: new URLSearchParams(new FormData(decide)), credentials: "same-origin" });
        if (res.ok) page = new DOMParser().parseFromString(await res.text(), "text/html");
      } catch (_) { /* the plain form below says what went wrong */ }
      const card = page && page.querySelector("#complaint-confirm .cp-confirm");
      if (!card) { decide.submit(); return; }
      let dlg = document.getElementById("decide-dialog");
      if (!dlg) {
        dlg = document.createElement("dialog");
        dlg.id = "decide-dialog";
        dlg.className = "cp-dialog";
        document.body.append(dlg);
      }
      const h = page.querySelector("#complaint-confirm h1");
      dlg.replaceChildren(...(h ? [h] : []), card);
      dlg.querySelector("#edit-form").addEventListener("submit", (ev) => { ev.preventDefault(); dlg.close(); });
      dlg.showModal();
      dlg.querySelector("#confirm-send").focus();
    });
  }

  // --- Live updates over Server-Sent Events. ---
  const queue = document.getElementById("queue");
  const ticket = document.getElementById("ticket");
  const board = document.getElementById("complaints");
  const page = queue || ticket || board;
  // Every signed-in page listens: the menu's notice count is on all of them.
  if (!body.dataset.agent || !window.EventSource) return;
  const me = Number(body.dataset.agent), team = Number(body.dataset.team);
  const state = document.getElementById("live-state");
  const es = new EventSource("/live?after=" + encodeURIComponent((page && page.dataset.after) || "0"));
  es.onopen = () => { if (state) state.classList.remove("off"); syncUnread(); };
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
    tick();
  }
  const fresh = new Set();
  const shown = new Set(ticket && ticket.dataset.events ? ticket.dataset.events.split(",").map(Number) : []);
  es.addEventListener("change", (e) => {
    const c = JSON.parse(e.data);
    if (queue && concernsQueue(c)) {
      fresh.add(c.ticket);
      later(() => { refreshQueue(Array.from(fresh)); fresh.clear(); });
    } else if (ticket && c.ticket === ticket.dataset.ref && !shown.has(c.id)) {
      // News, unless the page already shows it (a replay of recent events on connecting)
      // or it is the agent's own change, already on the page they were sent to.
      shown.add(c.id);
      const changed = document.getElementById("changed");
      if (changed && c.actor !== me) changed.hidden = false;
      later(refreshTicket);
    } else if (board && (c.entity === "complaint" || c.kind.startsWith("complaint."))) {
      later(refreshBoard);
    } else if (floor) {
      floorSoon();
    }
    if (page) page.dataset.seen = e.lastEventId; // how far the page has read the feed
  });

  // The complaints board is redrawn from a fresh copy of itself; cards that moved or
  // arrived are marked.
  async function refreshBoard() {
    const res = await fetch(location.href, { credentials: "same-origin" });
    if (!res.ok) return;
    const fresh = new DOMParser().parseFromString(await res.text(), "text/html").getElementById("complaints");
    if (!fresh) return;
    const before = new Map(Array.from(board.querySelectorAll(".cp-card[data-ref]")).map((c) => [c.dataset.ref, c.closest(".cp-col").id]));
    board.innerHTML = fresh.innerHTML;
    board.querySelectorAll(".cp-card[data-ref]").forEach((c) => {
      if (before.get(c.dataset.ref) !== c.closest(".cp-col").id) c.classList.add("fresh");
    });
  }

  // The live floor is redrawn from a fresh copy of itself: soon after any change on the
  // desk (at most once a second however busy it is), and every 30 seconds for the figures
  // that move with time alone. Tiles whose number changed are marked.
  const floor = document.getElementById("floor-live");
  let floorTimer = null;
  function floorSoon() {
    if (!floorTimer) floorTimer = setTimeout(refreshFloor, 1000);
  }
  async function refreshFloor() {
    try {
      const res = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.getElementById("floor-live");
      if (!fresh) return;
      const before = new Map(Array.from(floor.querySelectorAll(".floor-tile")).map((t) => [t.id, (t.querySelector(".floor-n") || {}).textContent]));
      floor.innerHTML = fresh.innerHTML;
      floor.querySelectorAll(".floor-tile").forEach((t) => {
        if (before.get(t.id) !== (t.querySelector(".floor-n") || {}).textContent) t.classList.add("fresh");
      });
      const asOf = doc.getElementById("floor-asof"), old = document.getElementById("floor-asof");
      if (asOf && old) old.textContent = asOf.textContent;
      tick();
    } catch (_) { /* the next change or the timer tries again */ } finally {
      floorTimer = null;
    }
  }
  if (floor) setInterval(floorSoon, 30000);

  // --- Notices: the menu's unread count, a toast, and the alerts the agent turned on. ---
  const badge = document.getElementById("unread-count");
  const navNotices = document.getElementById("nav-notices");
  function showUnread(n) {
    if (!badge) return;
    badge.textContent = String(n);
    badge.hidden = n <= 0;
    badge.dataset.n = String(n);
    const copy = document.querySelector("[data-unread-copy]"); // on the folded menu's button
    if (copy) { copy.textContent = String(n); copy.hidden = n <= 0; }
    if (navNotices) badge.title = navNotices.dataset.unreadFmt.replace(/\d+/, String(n));
  }
  // A (re)connected feed may have missed notices: the count is read afresh.
  async function syncUnread() {
    try {
      const res = await fetch("/notices/unread", { credentials: "same-origin", cache: "no-store" });
      if (res.ok) showUnread((await res.json()).unread);
    } catch (_) { /* the next notice or reconnect tries again */ }
  }
  const pref = (k) => { try { return localStorage.getItem("hotline." + k) === "on"; } catch (_) { return false; } };
  const setPref = (k, on) => { try { localStorage.setItem("hotline." + k, on ? "on" : "off"); } catch (_) { /* private mode */ } };
  // The ring is made here (WebAudio), not fetched; browsers let a page sound only after
  // the person has clicked or typed in it, so the context is made on the first gesture.
  let audio = null;
  function unlockAudio() {
    if (!audio && pref("sound") && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);
  function ring() {
    if (!audio || audio.state !== "running") return;
    [[880, 0], [1320, 0.18]].forEach(([hz, at]) => {
      const o = audio.createOscillator(), g = audio.createGain();
      const t = audio.currentTime + at;
      o.frequency.value = hz;
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.16);
      o.connect(g).connect(audio.destination);
      o.start(t);
      o.stop(t + 0.17);
    });
  }
  function toast(n) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = document.createElement(n.ticket ? "a" : "div");
    el.className = "toast";
    if (n.ticket) el.href = "/tickets/" + n.ticket;
    const b = document.createElement("b");
    b.textContent = n.label;
    const p = document.createElement("span");
    p.textContent = n.body;
    el.append(b, p);
    box.append(el);
    setTimeout(() => el.remove(), 8000);
  }
  es.addEventListener("notice", (e) => {
    const n = JSON.parse(e.data);
    showUnread(Number((badge && badge.dataset.n) || (badge && badge.textContent) || 0) + 1);
    toast(n);
    if (pref("desktop") && window.Notification && Notification.permission === "granted") {
      const d = new Notification(n.label, { body: n.body, tag: "hotline-notice-" + n.id });
      d.onclick = () => { window.focus(); if (n.ticket) location.href = "/tickets/" + n.ticket; };
    }
    if (n.kind === "ticket.assigned" && pref("sound")) ring();
    if (document.getElementById("notice-list")) later(refreshNotices);
  });
  // The notices page takes in a new notice: its list and heading (whose "mark all read"
  // reads up to the newest shown) are redrawn from a fresh copy.
  async function refreshNotices() {
    const res = await fetch(location.href, { credentials: "same-origin" });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    ["notice-list"].forEach((id) => {
      const fresh = doc.getElementById(id), old = document.getElementById(id);
      if (fresh && old) old.innerHTML = fresh.innerHTML;
    });
    const head = doc.querySelector("#notices-page .page-head"), old = document.querySelector("#notices-page .page-head");
    if (head && old) old.innerHTML = head.innerHTML;
  }

  // The notices page's switches; asking the browser's permission only on a click.
  const alerts = document.getElementById("notice-alerts");
  if (alerts) {
    alerts.hidden = false;
    const desk = document.getElementById("alerts-desktop"), snd = document.getElementById("alerts-sound");
    const note = document.getElementById("alerts-state");
    const label = () => {
      desk.textContent = pref("desktop") ? desk.dataset.disable : desk.dataset.enable;
      snd.textContent = pref("sound") ? snd.dataset.disable : snd.dataset.enable;
      desk.hidden = !window.Notification;
    };
    desk.addEventListener("click", async () => {
      if (pref("desktop")) { setPref("desktop", false); label(); return; }
      const p = await Notification.requestPermission();
      setPref("desktop", p === "granted");
      note.textContent = p === "denied" ? desk.dataset.blocked : "";
      label();
    });
    snd.addEventListener("click", () => {
      setPref("sound", !pref("sound"));
      unlockAudio();
      if (pref("sound")) ring();
      label();
    });
    label();
  }

  // --- Masked values: "show" posts the reveal (recorded on the server) and puts the value
  // in place of the masked one; without script the form opens a page with the value. ---
  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("reveal")) return;
    e.preventDefault();
    const btn = form.querySelector("button");
    btn.disabled = true;
    try {
      const res = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin", headers: { Accept: "application/json" } });
      const js = await res.json().catch(() => ({}));
      const target = document.getElementById(form.dataset.target);
      if (!res.ok || !target) {
        btn.disabled = false;
        btn.textContent = js.error || btn.textContent;
        btn.classList.add("refused");
        return;
      }
      target.textContent = js.value;
      target.classList.add("revealed");
      form.remove();
    } catch (err) {
      btn.disabled = false;
    }
  });
})();
