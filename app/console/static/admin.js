// Admin pages: ask before a form that cannot be undone (data-confirm="question").
// Loaded by the admin templates; the forms work without it.
document.addEventListener('submit', function (e) {
  var form = e.target;
  var q = form && form.getAttribute && form.getAttribute('data-confirm');
  if (q && !window.confirm(q)) {
    e.preventDefault();
  }
}, true);

// A secret shown once: its copy button puts it on the clipboard (or selects it, where the
// browser allows no clipboard), and says so.
document.addEventListener('click', function (e) {
  var b = e.target && e.target.closest && e.target.closest('[data-copy]');
  if (!b) return;
  var el = document.querySelector(b.getAttribute('data-copy'));
  if (!el) return;
  var done = function () { b.textContent = b.getAttribute('data-copied') || b.textContent; };
  var select = function () {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(el.textContent.trim()).then(done, select);
  } else {
    select();
  }
});
