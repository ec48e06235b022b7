// Event latency, grain commit -> @microsoft/signalr callback. Part of bench/Realtime/run.sh (issue 4, "Benchmark").
// Usage: node latency.mjs BASE_URL API_KEY CLIENTS TARGET_EVENTS FAIL_URL
// Opens CLIENTS hub connections (one Node process) with the dev key, then creates projects from FAIL_URL (a URL that
// fails fast, so each project emits several events), paced, until connection 0 has seen TARGET_EVENTS events.
// Latency of a receipt = Date.now() in the callback - event.at (the ProjectGrain's clock when it raised the event,
// before it wrote its state and then the event: the latency includes both PostgreSQL commits). Same machine, same
// clock. The median latency of the first and of the last connection opened shows what the fan-out order costs.
// Prints one JSON line with the statistics.
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.MA_NODE_MODULES}/`);
const signalR = require('@microsoft/signalr');
const [baseUrl, apiKey, clientsArg, targetArg, failUrl] = process.argv.slice(2);
const CLIENTS = Number(clientsArg);
const TARGET = Number(targetArg);

const receipts = [];          // latency ms of every (client, event) receipt
const perClient = new Array(CLIENTS).fill(0);
const firstClientEvents = new Set();
let phase = 'before'; // before -> measuring -> after
const outside = { before: 0, after: 0 };
const kinds = {};
const firstAndLast = { first: [], last: [] };

const connections = [];
async function open(i) {
  const c = new signalR.HubConnectionBuilder()
    .withUrl(`${baseUrl}/hubs/projects`, { accessTokenFactory: () => apiKey, transport: signalR.HttpTransportType.WebSockets, skipNegotiation: false })
    .configureLogging(signalR.LogLevel.Error)
    .build();
  c.serverTimeoutInMilliseconds = 120_000;
  c.on('projectEvent', (e) => {
    const now = Date.now();
    if (phase !== 'measuring') { outside[phase]++; return; }
    const latency = now - Date.parse(e.at);
    receipts.push(latency);
    if (i === 0) firstAndLast.first.push(latency);
    if (i === CLIENTS - 1 && CLIENTS > 1) firstAndLast.last.push(latency);
    perClient[i]++;
    if (i === 0) { firstClientEvents.add(`${e.projectId}/${e.seq}`); kinds[e.kind] = (kinds[e.kind] || 0) + 1; }
  });
  await c.start();
  connections[i] = c;
}

const t0 = Date.now();
const BATCH = 50;
for (let i = 0; i < CLIENTS; i += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, CLIENTS - i) }, (_, k) => open(i + k)));
}
const connectSeconds = (Date.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 2000));

phase = 'measuring';
let projects = 0;
let createErrors = 0;
const deadline = Date.now() + 180_000;
while (firstClientEvents.size < TARGET && Date.now() < deadline) {
  const res = await fetch(`${baseUrl}/api/projects`, {
    method: 'POST',
    headers: { 'X-Api-Key': apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: failUrl }),
  });
  if (res.ok) projects++; else createErrors++;
  await res.arrayBuffer();
  await new Promise((r) => setTimeout(r, 250)); // paced: a few events per second, not a load test
}
// Let the last events reach every client (and retries that may follow).
await new Promise((r) => setTimeout(r, 5000));
phase = 'after';

const events = firstClientEvents.size;
const sorted = receipts.slice().sort((a, b) => a - b);
const q = (p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : null;
const median = (xs) => xs.length ? xs.slice().sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] : null;
const minPer = Math.min(...perClient);
const maxPer = Math.max(...perClient);
console.log(JSON.stringify({
  clients: CLIENTS, connectSeconds, projects, createErrors, eventsSeenByClient0: events,
  receipts: sorted.length, receiptsPerClientMin: minPer, receiptsPerClientMax: maxPer,
  p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted.at(-1), min: sorted[0],
  mean: sorted.length ? +(sorted.reduce((a, b) => a + b, 0) / sorted.length).toFixed(1) : null,
  p50FirstConnection: median(firstAndLast.first), p50LastConnection: median(firstAndLast.last),
  receiptsBeforeWindow: outside.before, kindsSeenByClient0: kinds,
}));
// Anything still arriving 3 s after the window closed (a backlog) is counted too.
await new Promise((r) => setTimeout(r, 3000));
console.error(`receipts after the window: ${outside.after}`);
await Promise.all(connections.map((c) => c.stop().catch(() => {})));
process.exit(0);
