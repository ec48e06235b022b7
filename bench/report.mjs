// Combines the results of bench/Orleans and bench/graphile/noop.mjs into one Markdown table with ratios.
// Usage: node report.mjs ORLEANS_JSON GRAPHILE_JSON   (either may be missing: its columns stay empty)
import { existsSync, readFileSync } from "node:fs";

const [orleansPath, graphilePath] = process.argv.slice(2);
const load = (path) => (path && existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null);
const orleans = load(orleansPath);
const graphile = load(graphilePath);

const number = (n) => (n == null ? "–" : Math.round(n).toLocaleString("en-US"));
const ratio = (a, b) => (a == null || b == null ? "–" : `${(a / b).toFixed(2)}×`);

// Production first, then the --tuned configuration, each at every silo count measured like it.
const measured = (orleans?.throughput ?? []).filter((r) => r.variant === "production" || r.variant === orleans.settings.tuned);
const theirs = (scenario, mode) =>
  (graphile?.results ?? [])
    .filter((r) => r.scenario === scenario && (mode == null || r.mode === mode))
    .reduce((best, r) => (best == null || r.jobsPerSecond > best.jobsPerSecond ? r : best), null);
const peers = [
  ["best", theirs("throughput", null)],
  ["best in default mode", theirs("throughput", "default")],
].filter(([, peer], i, all) => peer != null && (i === 0 || peer !== all[0][1]));
if (peers.length === 0) peers.push(["", null]);

const rows = [];
for (const own of measured.length ? measured : [null]) {
  for (const [label, peer] of peers) {
    const silos = own == null ? "–" : `${own.silos} silo${own.silos > 1 ? "s" : ""} (${own.variant})`;
    const described = peer == null ? "–" : `${label} (concurrency ${peer.concurrency}, ${peer.mode} mode)`;
    rows.push(`| live: N sent by concurrent senders while the workers run | ${silos} | ${number(own?.median.callsPerSecond)} | ${described} | ${number(peer?.jobsPerSecond)} | ${ratio(own?.median.callsPerSecond, peer?.jobsPerSecond)} |`);
  }
}

const lines = [
  "| measurement | Orleans (persisted calls) | calls/s | graphile-worker 0.18 (1 worker process) | jobs/s | ratio (Orleans / graphile) |",
  "|---|---|---:|---|---:|---:|",
  ...rows,
];

const drain = theirs("drain", null);
if (drain != null) {
  lines.push("", `graphile-worker drain (N queued, then the worker starts; no Orleans equivalent: a grain call is its own queue): ${number(drain.jobsPerSecond)} jobs/s (concurrency ${drain.concurrency}, ${drain.mode} mode).`);
}

for (const l of orleans?.latency ?? []) {
  lines.push(
    `Sequential ${l.kind === "persisted" ? "persisted call" : "call without state (ping)"}, ${l.silos} silo${l.silos > 1 ? "s" : ""}: ` +
      `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, mean ${l.mean.toFixed(2)} ms, ${number(l.callsPerSecond)} calls/s.`,
  );
}

console.log(lines.join("\n"));
