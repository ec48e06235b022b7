// Connects to /hubs/projects with the real @microsoft/signalr client and prints every event as a JSON line.
// Usage: node signalr-client.mjs BASE_URL API_KEY STOP_KIND [PROJECT_ID]
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.MA_TEST_NODE_MODULES}/`);
const signalR = require('@microsoft/signalr');
const [baseUrl, apiKey, stopKind, projectId] = process.argv.slice(2);

const connection = new signalR.HubConnectionBuilder()
  .withUrl(`${baseUrl}/hubs/projects`, { accessTokenFactory: () => apiKey })
  .configureLogging(signalR.LogLevel.Warning)
  .build();

// Events that arrive while SubscribeProject and the catch-up are still answering are held until those are printed.
let ready = false;
const early = [];
// With one project, the catch-up and the live events overlap: a live event the catch-up already gave is not printed
// again. Every other event is printed as it came, so a repeated or reordered delivery still shows.
let caughtUpTo = 0;
async function print(event) {
  if (projectId && !event.caughtUp && event.seq <= caughtUpTo) {
    return;
  }
  console.log(JSON.stringify(event));
  if (event.kind === stopKind) {
    await connection.stop();
    process.exit(0);
  }
}
connection.on('projectEvent', async (event) => {
  const stamped = { ...event, receivedAt: Date.now() };
  if (ready) {
    await print(stamped);
  } else {
    early.push(stamped);
  }
});

try {
  await connection.start();
  if (projectId) {
    // Only this project from now on (the hub method checks that it is the caller's).
    await connection.invoke('SubscribeProject', projectId);
    // What happened before the subscription (as a reconnecting client does): subscribe first, then read the log.
    const missed = await connection.invoke('GetEvents', projectId, 0);
    console.log('CONNECTED');
    for (const event of missed) {
      await print({ ...event, receivedAt: Date.now(), caughtUp: true });
      caughtUpTo = Math.max(caughtUpTo, event.seq);
    }
  } else {
    console.log('CONNECTED');
  }
  ready = true;
  for (const event of early.splice(0)) {
    await print(event);
  }
} catch (error) {
  console.log(`FAILED ${error}`);
  process.exit(2);
}
setTimeout(() => { console.log('TIMEOUT'); process.exit(3); }, 240_000);
