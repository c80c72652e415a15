// Admin pages: ask before a form that cannot be undone (data-confirm="question").
// Loaded by the admin templates; the forms work without it.
document.addEventListener('submit', function (e) {
  var form = e.target;
  var q = form && form.getAttribute && form.getAttribute('data-confirm');
  if (q && !window.confirm(q)) {
    e.preventDefault();
  }
}, true);
