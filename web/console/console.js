// fleetpipe console: live overview. The server renders the panels (escaping included) and pushes the same
// fragment over Server-Sent Events whenever it recomputes them; this only swaps it in. Without JavaScript
// the page is complete, just not live.
'use strict';
(() => {
  const live = document.querySelector('[data-sse]');
  if (!live || !window.EventSource) return;
  const source = new EventSource(live.dataset.sse);
  source.addEventListener('overview', (ev) => {
    live.innerHTML = ev.data;
    live.dataset.updates = String(Number(live.dataset.updates || 0) + 1);
  });
  source.onerror = () => live.classList.add('stale');
  source.onopen = () => live.classList.remove('stale');
})();
