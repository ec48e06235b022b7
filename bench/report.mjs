// Combines the results of Runtime.Bench and graphile/noop.mjs into one Markdown table with ratios.
// Usage: node report.mjs RUNTIME_JSON GRAPHILE_JSON   (either may be missing: its columns stay empty)
import { existsSync, readFileSync } from "node:fs";

const [runtimePath, graphilePath] = process.argv.slice(2);
const load = (path) => (path && existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null);
const runtime = load(runtimePath);
const graphile = load(graphilePath);

const number = (n) => (n == null ? "–" : Math.round(n).toLocaleString("en-US"));
const ratio = (a, b) => (a == null || b == null ? "–" : `${(a / b).toFixed(2)}×`);

const ours = (scenario, silos) => runtime?.throughput.find((r) => r.scenario === scenario && r.silos === silos);
const theirs = (scenario, mode) =>
  (graphile?.results ?? [])
    .filter((r) => r.scenario === scenario && (mode == null || r.mode === mode))
    .reduce((best, r) => (best == null || r.jobsPerSecond > best.jobsPerSecond ? r : best), null);
const describe = (r) => (r == null ? "" : ` (concurrency ${r.concurrency}, ${r.mode} mode)`);

const rows = [];
for (const [scenario, label] of [
  ["drain", "drain: N queued, then the workers start"],
  ["throughput", "live: N sent while the workers run"],
]) {
  for (const mode of [null, "default"]) {
    const peer = theirs(scenario, mode);
    if (mode != null && (peer == null || peer === theirs(scenario, null))) continue;
    for (const silos of [1, 2]) {
      const own = ours(scenario, silos);
      if (own == null && peer == null) continue;
      rows.push(
        `| ${label} | ${silos} silo${silos > 1 ? "s" : ""} | ${number(own?.messagesPerSecond)} | ` +
          `${mode == null ? "best" : "best in default mode"}${describe(peer)} | ${number(peer?.jobsPerSecond)} | ${ratio(own?.messagesPerSecond, peer?.jobsPerSecond)} |`,
      );
    }
  }
}

const lines = [
  "| measurement | MediaActors | msg/s | graphile-worker 0.18 (1 worker process) | jobs/s | ratio (ours / graphile) |",
  "|---|---|---:|---|---:|---:|",
  ...rows,
];

const live = ours("throughput", 1)?.messagesPerSecond;
if (live != null) {
  lines.push("", `Target of issue 2 (at least 2,000 durable messages/s, live, 1 silo): ${number(live)} msg/s, ${live >= 2000 ? "met" : "NOT met"}.`);
}

for (const l of runtime?.latency ?? []) {
  lines.push(
    `Ping() ${l.callers === 1 ? "sequential" : `${l.callers} concurrent callers`}: p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, mean ${l.mean.toFixed(2)} ms, ${number(l.callsPerSecond)} calls/s.`,
  );
}

console.log(lines.join("\n"));
