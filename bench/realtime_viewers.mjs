// SSE viewers for bench/realtime.sh: opens VIEWERS streams on BASE/events for SECONDS and reports, over the
// "point" events of vehicles >= MIN_VEHICLE, the delay from the source commit (payload.source.ts_ms) to the
// event's arrival here, split at the Kafka record time (upstream: Postgres -> Debezium -> Kafka, which the
// dashboard cannot shorten) - as JSON on stdout.
const base = process.env.BASE;
const viewers = Number(process.env.VIEWERS || 1);
const seconds = Number(process.env.SECONDS_RUN || 60);
const minVehicle = Number(process.env.MIN_VEHICLE || 0);
const maxVehicle = Number(process.env.MAX_VEHICLE || Number.MAX_SAFE_INTEGER);

const total = [];
const upstream = [];
let events = 0;
let dropped = 0;

async function view(i) {
  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(), seconds * 1000);
  try {
    const res = await fetch(`${base}/events`, { signal: ctrl.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (!block.startsWith('event: point')) continue;
        const now = Date.now();
        const data = JSON.parse(block.slice(block.indexOf('data: ') + 6));
        events++;
        if (data.vehicle.id < minVehicle || data.vehicle.id >= maxVehicle || !(data.source_ts_ms > 0)) continue;
        // Every viewer records; viewer 0 also records the upstream share.
        total.push(now - data.source_ts_ms);
        if (i === 0 && data.record_ts_ms > 0) upstream.push(data.record_ts_ms - data.source_ts_ms);
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') { dropped++; }
  }
}

function pct(a, p) {
  if (!a.length) return null;
  const s = Float64Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

await Promise.all(Array.from({ length: viewers }, (_, i) => view(i)));
console.log(JSON.stringify({
  viewers, events, samples: total.length, dropped_viewers: dropped,
  total_p50_ms: pct(total, 50), total_p99_ms: pct(total, 99), total_max_ms: pct(total, 100),
  upstream_p50_ms: pct(upstream, 50), upstream_p99_ms: pct(upstream, 99),
}));
