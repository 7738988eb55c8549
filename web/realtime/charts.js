// The dashboard's two charts (Plotly.js), over a time window relative to the newest data. With a few
// vehicles shown, or any selected, they are lines per vehicle (fuel level, distance); with many and none
// selected, fleet aggregates: how fuel levels are distributed now, and the fleet's miles per hour.
/* global Plotly */
import { byColor, strideFor } from './tracks.js';
import { LOW_FUEL_COLOR, distanceRate, fuelHistogram } from './fleet.js';

// Lines per vehicle when at most this many are shown (or when vehicles are selected).
export const LINES_MAX = 12;
const config = { responsive: true, displaylogo: false };
const margin = { l: 45, r: 10, t: 30, b: 30 };

function inWindow(list, win) {
  return list.map((v) => {
    let i = v.track.length;
    while (i > 0 && v.track[i - 1].t >= win.start) i -= 1;
    return { ...v, track: v.track.slice(i).filter((p) => p.t <= win.end) };
  });
}

function lines(el, list, win, field, title, ytitle, unit, lowFuel) {
  const windowed = inWindow(list, win);
  const stride = strideFor(windowed);
  const traces = byColor(windowed, (p) => p.t, (p) => p[field], stride).map((g) => ({
    type: 'scatter', mode: 'lines', line: { color: g.color }, x: g.xs, y: g.ys, customdata: g.ids,
    connectgaps: false, hovertemplate: `Vehicle %{customdata}<br>%{x}<br>%{y:.1f} ${unit}<extra></extra>`,
  }));
  Plotly.react(el, traces, {
    title: { text: title, font: { size: 13 } }, margin, uirevision: `${field}-lines`, showlegend: false,
    xaxis: { type: 'date', range: [win.start, win.end] }, yaxis: { title: { text: ytitle } },
    shapes: field === 'fuel' ? [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: lowFuel, y1: lowFuel,
      line: { color: LOW_FUEL_COLOR, dash: 'dot', width: 1 } }] : [],
  }, config);
}

function fuelDistribution(el, list, lowFuel) {
  const bins = fuelHistogram(list, 10);
  Plotly.react(el, [{
    type: 'bar', x: bins.map((b) => `${b.from}–${b.to}`), y: bins.map((b) => b.count),
    marker: { color: bins.map((b) => (b.from < lowFuel ? LOW_FUEL_COLOR : '#4f7cac')) },
    hovertemplate: 'fuel %{x} %<br>%{y} vehicles<extra></extra>',
  }], {
    title: { text: `Fuel level now: ${list.length} vehicles`, font: { size: 13 } }, margin, uirevision: 'fuel-hist',
    showlegend: false, xaxis: { title: { text: 'fuel %' }, type: 'category' }, yaxis: { title: { text: 'vehicles' } },
  }, config);
}

function fleetDistance(el, list, win) {
  const rate = distanceRate(list, win, 30);
  Plotly.react(el, [{
    type: 'bar', x: rate.starts, y: rate.perHour, marker: { color: '#4f7cac' },
    hovertemplate: '%{x}<br>%{y:.0f} miles per hour<extra></extra>',
  }], {
    title: { text: 'Fleet distance per hour', font: { size: 13 } }, margin, uirevision: 'dist-rate', showlegend: false,
    xaxis: { type: 'date', range: [win.start, win.end] }, yaxis: { title: { text: 'miles/h' } }, bargap: 0.05,
  }, config);
}

// Draws both charts; returns what they show, for the page's tests ('lines' or 'fleet').
export function drawFuel(el, list, selectedList, win, lowFuel) {
  if (!win) return 'none';
  if (selectedList.length) return lines(el, selectedList, win, 'fuel', 'Fuel level', '%', '%', lowFuel), 'lines';
  if (list.length <= LINES_MAX) return lines(el, list, win, 'fuel', 'Fuel level', '%', '%', lowFuel), 'lines';
  fuelDistribution(el, list, lowFuel);
  return 'fleet';
}

export function drawDistance(el, list, selectedList, win) {
  if (!win) return 'none';
  const few = selectedList.length ? selectedList : list.length <= LINES_MAX ? list : null;
  if (few) return lines(el, few, win, 'dist', 'Distance traveled', 'miles', 'mi'), 'lines';
  fleetDistance(el, list, win);
  return 'fleet';
}
