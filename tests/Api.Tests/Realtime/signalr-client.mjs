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

// Events that arrive while SubscribeProject is still answering are held until CONNECTED is printed.
let ready = false;
const early = [];
async function print(event) {
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
  }
  console.log('CONNECTED');
  ready = true;
  for (const event of early.splice(0)) {
    await print(event);
  }
} catch (error) {
  console.log(`FAILED ${error}`);
  process.exit(2);
}
setTimeout(() => { console.log('TIMEOUT'); process.exit(3); }, 240_000);
