// Where an event's latency goes, per latency run of bench/Realtime/run.sh.
// Usage: node bench/Realtime/breakdown.mjs RESULTS_DIR
// Reads the runs' events-N-*.jsonl (per event: its first and last receipt's latency over all connections) and, when the
// run was made with MA_BENCH_RELAY_LOG=Debug, the API log's per-event relay timings: from the grain raising the event to
// its notification at the API ("notified"), waiting behind the previous batch ("queued"), and the relay's writes into the
// connections' pipes ("send"). Prints percentiles of each and of the fan-out spread (last receipt - first receipt).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) { console.error('usage: node bench/Realtime/breakdown.mjs RESULTS_DIR'); process.exit(2); }

const relay = new Map();
const apiLog = join(dir, 'logs', 'api.log');
if (existsSync(apiLog)) {
  const pattern = /Relayed event #(\d+) of ([0-9a-f-]+) in a batch of (\d+): notified ([\d.]+) ms after it was raised, relayed ([\d.]+) ms later, sent to SignalR in ([\d.]+) ms/g;
  for (const m of readFileSync(apiLog, 'utf8').matchAll(pattern)) {
    relay.set(`${m[2]}/${m[1]}`, { batch: +m[3], notified: +m[4], queued: +m[5], send: +m[6] });
  }
}

const quantile = (values, p) => {
  if (!values.length) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
};
const line = (name, values) => `${name.padEnd(30)} p50 ${quantile(values, 0.5)}  p90 ${quantile(values, 0.9)}  p99 ${quantile(values, 0.99)}  max ${quantile(values, 1)}`;

const files = readdirSync(dir).filter((f) => /^events-\d+-.*\.jsonl$/.test(f))
  .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
for (const file of files) {
  const events = readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  console.log(`${file}: ${events.length} events`);
  console.log('  ' + line('first receipt (ms)', events.map((e) => e.min)));
  console.log('  ' + line('last receipt (ms)', events.map((e) => e.max)));
  console.log('  ' + line('fan-out spread (ms)', events.map((e) => e.max - e.min)));
  const timed = events.map((e) => relay.get(e.event)).filter(Boolean);
  if (timed.length) {
    console.log('  ' + line('raised -> notified at API (ms)', timed.map((r) => r.notified)));
    console.log('  ' + line('queued in the relay (ms)', timed.map((r) => r.queued)));
    console.log('  ' + line('written to the pipes (ms)', timed.map((r) => r.send)));
    console.log('  ' + line('batch size', timed.map((r) => r.batch)));
  }
}
