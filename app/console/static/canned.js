// Canned replies in the reply composer: "/" in an empty reply box, or Alt+/ anywhere in it,
// opens the picker; type to search the titles, ↑/↓ to choose, Enter to insert the filled
// text where the cursor was, Esc to go back. Without this script the picker is a list to
// read and copy from, and the composer works as before.
"use strict";

(function () {
  const box = document.getElementById("reply-body");
  const picker = document.getElementById("canned-picker");
  if (!box || !picker) return;
  const q = document.getElementById("canned-q");
  const none = document.getElementById("canned-none");
  const items = Array.from(picker.querySelectorAll("li[data-title]"));
  q.hidden = false;
  picker.classList.add("js");
  let at = null; // the reply box's selection when the picker opened: where the text goes

  const shown = () => items.filter((li) => !li.hidden);
  function mark(li) {
    items.forEach((x) => {
      x.classList.toggle("sel", x === li);
      x.setAttribute("aria-selected", x === li ? "true" : "false");
    });
    if (li) {
      li.scrollIntoView({ block: "nearest" });
      q.setAttribute("aria-activedescendant", li.id);
    } else q.removeAttribute("aria-activedescendant");
  }
  function filter() {
    // A leading "/" is the key that opened the picker, typed on: "/claim" searches "claim".
    const words = q.value.replace(/^\//, "").toLowerCase().split(/\s+/).filter(Boolean);
    items.forEach((li) => {
      const title = li.dataset.title.toLowerCase();
      li.hidden = !words.every((w) => title.includes(w));
    });
    const s = shown();
    none.hidden = s.length > 0;
    mark(s[0] || null);
  }
  function open() {
    at = [box.selectionStart, box.selectionEnd];
    picker.open = true;
    q.value = "";
    filter();
    q.focus();
  }
  function close() {
    picker.open = false;
    box.focus();
  }
  function pick(li) {
    const text = li.querySelector(".canned-text").textContent;
    const [s, e] = at || [box.value.length, box.value.length];
    box.value = box.value.slice(0, s) + text + box.value.slice(e);
    close();
    box.setSelectionRange(s + text.length, s + text.length);
    box.dispatchEvent(new Event("input", { bubbles: true })); // the SMS segment count
  }

  box.addEventListener("keydown", (e) => {
    const slash = e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && box.value.trim() === "";
    const altSlash = e.altKey && !e.ctrlKey && !e.metaKey && (e.key === "/" || e.code === "Slash");
    if (slash || altSlash) {
      e.preventDefault();
      open();
    }
  });
  q.addEventListener("input", filter);
  q.addEventListener("keydown", (e) => {
    const s = shown();
    const i = s.findIndex((li) => li.classList.contains("sel"));
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const j = e.key === "ArrowDown" ? Math.min(s.length - 1, i + 1) : Math.max(0, i - 1);
      mark(s[j] || null);
    } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault(); // not the form's submission
      e.stopPropagation();
      if (s[i]) pick(s[i]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  picker.addEventListener("click", (e) => {
    const li = e.target.closest("li[data-title]");
    if (li) pick(li);
  });
  document.addEventListener("click", (e) => {
    if (picker.open && !picker.contains(e.target)) picker.open = false;
  });
  // Opened with the mouse: search from the start, insert where the cursor was.
  picker.querySelector("summary").addEventListener("click", (e) => {
    if (picker.open) return;
    e.preventDefault();
    open();
  });
})();
