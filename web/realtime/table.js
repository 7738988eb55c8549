// The dashboard's vehicle table: only the rows in view are in the document (a fixed row height, spacer rows
// above and below, the slice recomputed on scroll), each row kept per vehicle and only its changed cells
// rewritten. Sorting is by a click on a column's header; a click on a row selects its vehicle.
import { newest } from './fleet.js';

export const ROW_HEIGHT = 28; // px; realtime.css gives rows this height
const OVERSCAN = 8;
export const COLUMNS = [
  ['vehicle', 'Vehicle'], ['state', 'State'], ['trip', 'Trip'], ['seq', 'Seq'], ['time', 'Time (UTC)'],
  ['lat', 'Latitude'], ['lon', 'Longitude'], ['speed', 'Speed (mph)'], ['fuel', 'Fuel %'], ['gal', 'Fuel (gal)'],
  ['dist', 'Distance'], ['alert', 'Alert'],
];

function fmt(x, digits) { return typeof x === 'number' ? x.toFixed(digits) : ''; }
export function utc(ms) { return new Date(ms).toISOString().replace('T', ' ').slice(0, 19); }

export function createTable(scroller, { onSort, onSelect }) {
  const table = scroller.querySelector('table');
  const head = table.querySelector('thead tr');
  const body = table.querySelector('tbody');
  const top = document.createElement('tr');
  const bottom = document.createElement('tr');
  top.className = bottom.className = 'spacer';
  top.setAttribute('aria-hidden', 'true');
  bottom.setAttribute('aria-hidden', 'true');
  const rows = new Map(); // vehicle id -> its <tr>
  let current = { list: [], ctx: null };

  head.replaceChildren(...COLUMNS.map(([field, label]) => {
    const th = document.createElement('th');
    th.dataset.field = field;
    th.scope = 'col';
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', () => onSort(field));
    th.append(b);
    return th;
  }));

  function rowFor(v) {
    let tr = rows.get(v.id);
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.vehicle = v.id;
      tr.tabIndex = 0;
      for (const [f] of COLUMNS) {
        const td = document.createElement('td');
        td.dataset.field = f;
        if (f === 'vehicle') {
          const sw = document.createElement('span');
          sw.className = 'swatch';
          td.append(sw, document.createTextNode(''));
        }
        tr.append(td);
      }
      const select = (e) => onSelect(v.id, e.shiftKey || e.ctrlKey || e.metaKey);
      tr.addEventListener('click', select);
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(e); } });
      rows.set(v.id, tr);
    }
    return tr;
  }

  function fill(tr, v, ctx) {
    const p = newest(v);
    const low = p.fuel < ctx.lowFuel;
    const state = ctx.stateOf(p, ctx.now);
    const cls = [low ? 'low-fuel' : '', ctx.selected.has(v.id) ? 'selected' : ''].filter(Boolean).join(' ');
    if (tr.className !== cls) tr.className = cls;
    const texts = [String(v.id), state, String(p.trip), String(p.seq), utc(p.t), fmt(p.lat, 5), fmt(p.lon, 5),
      fmt(p.speed, 1), fmt(p.fuel, 1), fmt(p.gal, 2), fmt(p.dist, 2), low ? 'LOW FUEL' : ''];
    const cells = tr.children;
    if (tr.dataset.color !== v.color) {
      cells[0].firstChild.style.background = v.color;
      tr.dataset.color = v.color;
    }
    const idText = cells[0].lastChild;
    if (idText.data !== texts[0]) idText.data = texts[0];
    for (let i = 1; i < texts.length; i++) {
      if (cells[i].textContent !== texts[i]) cells[i].textContent = texts[i];
    }
    if (cells[1].className !== `state ${state}`) cells[1].className = `state ${state}`;
    if (cells[11].className !== (low ? 'alert' : '')) cells[11].className = low ? 'alert' : '';
    if (tr.getAttribute('aria-selected') !== String(ctx.selected.has(v.id))) {
      tr.setAttribute('aria-selected', String(ctx.selected.has(v.id)));
    }
  }

  // Renders the rows of `list` (already filtered and sorted) that are in view.
  function render() {
    const { list, ctx } = current;
    if (!ctx) return;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const count = Math.ceil(scroller.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    const slice = list.slice(first, first + count);
    top.style.height = `${first * ROW_HEIGHT}px`;
    bottom.style.height = `${Math.max(0, list.length - first - slice.length) * ROW_HEIGHT}px`;
    const want = [top, ...slice.map((v) => { const tr = rowFor(v); fill(tr, v, ctx); return tr; }), bottom];
    const have = body.children;
    const same = have.length === want.length && want.every((tr, i) => have[i] === tr);
    if (!same) body.replaceChildren(...want);
    for (const id of rows.keys()) if (!ctx.has(id)) rows.delete(id);
    for (const th of head.children) {
      const sorted = th.dataset.field === ctx.sort;
      th.setAttribute('aria-sort', sorted ? (ctx.dir === 'desc' ? 'descending' : 'ascending') : 'none');
    }
  }
  let frame = 0;
  scroller.addEventListener('scroll', () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
  }, { passive: true });

  return {
    draw(list, ctx) {
      current = { list, ctx };
      render();
    },
    // Scrolls the vehicle's row into view (when it is in the list).
    reveal(id) {
      const i = current.list.findIndex((v) => v.id === id);
      if (i < 0) return;
      const y = i * ROW_HEIGHT;
      if (y < scroller.scrollTop || y + ROW_HEIGHT > scroller.scrollTop + scroller.clientHeight - ROW_HEIGHT) {
        scroller.scrollTop = Math.max(0, y - scroller.clientHeight / 3);
      }
      render();
    },
  };
}
