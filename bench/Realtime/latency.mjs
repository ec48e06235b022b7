// Event latency, grain commit -> @microsoft/signalr callback. Part of bench/Realtime/run.sh (issue 4, "Benchmark").
// Usage: node latency.mjs BASE_URL API_KEY CLIENTS TARGET_EVENTS FAIL_URL [WORKERS]
// Opens CLIENTS hub connections with the dev key, then creates projects from FAIL_URL (a URL that fails fast, so each
// project emits several events), paced, until connection 0 has seen TARGET_EVENTS events.
// Latency of a receipt = Date.now() in the callback - event.at (the ProjectGrain's clock when it raised the event,
// before it wrote its state and then the event: the latency includes both PostgreSQL commits). Same machine, same
// clock. WORKERS (default 1) spreads the connections over that many Node worker threads: with one, a single event loop
// takes every receipt in turn, so a burst of 1,000 (one event) queues behind itself in the measuring client.
// Prints one JSON line with the statistics, then cancels the projects it created (so a following run does not get their
// retries' events).
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const require = createRequire(`${process.env.MA_NODE_MODULES}/`);
const signalR = require('@microsoft/signalr');
// MA_BENCH_EVENTS_FILE: also write, per event, its first and last receipt's latency (one JSON line each) there.
const perEventFile = process.env.MA_BENCH_EVENTS_FILE;

// The clients of one thread: connections [first, first + count), receipts counted while the phase is 'measuring'.
async function openClients({ baseUrl, apiKey, first, count }, onFirstClientEvent) {
  const state = { phase: 'before', receipts: [], perClient: new Array(count).fill(0), outside: { before: 0, after: 0 }, kinds: {}, perEvent: {} };
  const connections = [];
  const open = async (k) => {
    const c = new signalR.HubConnectionBuilder()
      .withUrl(`${baseUrl}/hubs/projects`, { accessTokenFactory: () => apiKey, transport: signalR.HttpTransportType.WebSockets, skipNegotiation: false })
      .configureLogging(signalR.LogLevel.Error)
      .build();
    c.serverTimeoutInMilliseconds = 120_000;
    c.on('projectEvent', (e) => {
      const now = Date.now();
      if (state.phase !== 'measuring') { state.outside[state.phase]++; return; }
      const latency = now - Date.parse(e.at);
      state.receipts.push(latency);
      if (perEventFile) {
        const key = `${e.projectId}/${e.seq}`;
        const x = state.perEvent[key] ??= { kind: e.kind, at: e.at, min: latency, max: latency, n: 0 };
        x.min = Math.min(x.min, latency); x.max = Math.max(x.max, latency); x.n++;
      }
      state.perClient[k]++;
      if (first + k === 0) { state.kinds[e.kind] = (state.kinds[e.kind] || 0) + 1; onFirstClientEvent(`${e.projectId}/${e.seq}`); }
    });
    await c.start();
    connections[k] = c;
  };
  const BATCH = 50;
  for (let k = 0; k < count; k += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, count - k) }, (_, j) => open(k + j)));
  }
  return { state, stop: () => Promise.all(connections.map((c) => c.stop().catch(() => {}))) };
}

if (!isMainThread) {
  // A worker: opens its share, follows the main thread's phase changes, sends its receipts back when asked.
  const clients = await openClients(workerData, (id) => parentPort.postMessage({ firstClientEvent: id }));
  parentPort.on('message', async (message) => {
    if (message.phase) clients.state.phase = message.phase;
    if (message.report) {
      const { receipts, perClient, outside, kinds, perEvent } = clients.state;
      parentPort.postMessage({ report: { receipts, perClient, outside, kinds, perEvent } });
    }
    if (message.stop) { await clients.stop(); process.exit(0); }
  });
  parentPort.postMessage({ ready: true });
} else {
  const [baseUrl, apiKey, clientsArg, targetArg, failUrl, workersArg] = process.argv.slice(2);
  const CLIENTS = Number(clientsArg);
  const TARGET = Number(targetArg);
  const WORKERS = Math.max(1, Math.min(Number(workersArg ?? 1), CLIENTS));
  const firstClientEvents = new Set();

  // Every thread (the main one when WORKERS = 1) as { setPhase, report, stop }.
  const t0 = Date.now();
  let threads;
  if (WORKERS === 1) {
    const clients = await openClients({ baseUrl, apiKey, first: 0, count: CLIENTS }, (id) => firstClientEvents.add(id));
    threads = [{ setPhase: (p) => { clients.state.phase = p; }, report: async () => clients.state, stop: clients.stop }];
  } else {
    threads = await Promise.all(Array.from({ length: WORKERS }, (_, w) => {
      const first = Math.floor((w * CLIENTS) / WORKERS);
      const count = Math.floor(((w + 1) * CLIENTS) / WORKERS) - first;
      const worker = new Worker(new URL(import.meta.url), { workerData: { baseUrl, apiKey, first, count } });
      let onReport;
      return new Promise((resolve, reject) => {
        worker.on('error', reject);
        worker.on('message', (m) => {
          if (m.firstClientEvent) firstClientEvents.add(m.firstClientEvent);
          if (m.report) onReport(m.report);
          if (m.ready) resolve({
            setPhase: (p) => worker.postMessage({ phase: p }),
            report: () => new Promise((r) => { onReport = r; worker.postMessage({ report: true }); }),
            stop: () => new Promise((r) => { worker.once('exit', r); worker.postMessage({ stop: true }); }),
          });
        });
      });
    }));
  }
  const connectSeconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2000));

  threads.forEach((t) => t.setPhase('measuring'));
  const windowStart = Date.now();
  const cpuAtStart = process.cpuUsage();
  let projects = 0;
  let createErrors = 0;
  const created = [];
  const deadline = Date.now() + 180_000;
  while (firstClientEvents.size < TARGET && Date.now() < deadline) {
    const res = await fetch(`${baseUrl}/api/projects`, {
      method: 'POST',
      headers: { 'X-Api-Key': apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: failUrl }),
    });
    if (res.ok) { projects++; created.push((await res.json()).id); } else { createErrors++; await res.arrayBuffer(); }
    await new Promise((r) => setTimeout(r, 250)); // paced: a few events per second, not a load test
  }
  // Let the last events reach every client (and retries that may follow).
  await new Promise((r) => setTimeout(r, 5000));
  threads.forEach((t) => t.setPhase('after'));
  const windowSeconds = (Date.now() - windowStart) / 1000;
  // process.cpuUsage() covers every thread of the process, workers included.
  const cpu = process.cpuUsage(cpuAtStart);

  const reports = await Promise.all(threads.map((t) => t.report()));
  const receipts = reports.flatMap((r) => r.receipts);
  const perClient = reports.flatMap((r) => r.perClient);
  const outsideBefore = reports.reduce((n, r) => n + r.outside.before, 0);
  const kinds = Object.assign({}, ...reports.map((r) => r.kinds));
  const events = firstClientEvents.size;
  const sorted = receipts.slice().sort((a, b) => a - b);
  const q = (p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : null;
  console.log(JSON.stringify({
    clients: CLIENTS, workers: WORKERS, connectSeconds, projects, createErrors, eventsSeenByClient0: events,
    receipts: sorted.length, receiptsPerClientMin: Math.min(...perClient), receiptsPerClientMax: Math.max(...perClient),
    p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted.at(-1), min: sorted[0],
    mean: sorted.length ? +(sorted.reduce((a, b) => a + b, 0) / sorted.length).toFixed(1) : null,
    receiptsBeforeWindow: outsideBefore, kindsSeenByClient0: kinds,
    windowSeconds, clientCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  }));
  if (perEventFile) {
    const merged = {};
    for (const r of reports) {
      for (const [key, x] of Object.entries(r.perEvent)) {
        const m = merged[key] ??= { event: key, kind: x.kind, at: x.at, min: x.min, max: x.max, n: 0 };
        m.min = Math.min(m.min, x.min); m.max = Math.max(m.max, x.max); m.n += x.n;
      }
    }
    const { writeFileSync } = await import('node:fs');
    writeFileSync(perEventFile, Object.values(merged).sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).map((m) => JSON.stringify(m)).join('\n') + '\n');
  }
  // Anything still arriving 3 s after the window closed (a backlog) is counted too.
  await new Promise((r) => setTimeout(r, 3000));
  const after = (await Promise.all(threads.map((t) => t.report()))).reduce((n, r) => n + r.outside.after, 0);
  console.error(`receipts after the window: ${after}`);
  // The projects would go on retrying their download for minutes: cancelled, so the next run starts without their events.
  for (const id of created) {
    const res = await fetch(`${baseUrl}/api/projects/${id}/cancel`, { method: 'POST', headers: { 'X-Api-Key': apiKey } });
    await res.arrayBuffer();
  }
  await new Promise((r) => setTimeout(r, 2000));
  await Promise.all(threads.map((t) => t.stop()));
  process.exit(0);
}
