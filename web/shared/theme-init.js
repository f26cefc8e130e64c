// theme-init.js — a classic (blocking) script in <head>: applies the saved
// theme before the first paint so a dark page never flashes light.
(function () {
  try {
    var t = localStorage.getItem('bz.theme');
    if (t === 'dark' || t === 'light') document.documentElement.dataset.theme = t;
  } catch (e) {
    /* storage disabled: the system preference applies */
  }
})();
