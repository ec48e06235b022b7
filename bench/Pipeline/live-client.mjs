// A live-transcript client for the pipeline benchmark: connects to /hubs/projects with the real @microsoft/signalr
// client before the project is created, keeps the transcript_partial parts of the user's projects as they come, and
// when a project completes prints one JSON line: how many parts, whether they came in order, and when (ms since epoch)
// the first and last part, transcript_ready and completed arrived.
// Usage: MA_NODE_MODULES=tools/node_modules node bench/Pipeline/live-client.mjs BASE_URL API_KEY
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.MA_NODE_MODULES}/`);
const signalR = require('@microsoft/signalr');
const [baseUrl, apiKey] = process.argv.slice(2);

const connection = new signalR.HubConnectionBuilder()
  .withUrl(`${baseUrl}/hubs/projects`, { accessTokenFactory: () => apiKey })
  .configureLogging(signalR.LogLevel.Warning)
  .build();

const projects = new Map();
const of = (id) => {
  if (!projects.has(id)) projects.set(id, { parts: [], segments: 0, firstPartAt: null, lastPartAt: null, readyAt: null });
  return projects.get(id);
};
connection.on('projectEvent', async (event) => {
  const now = Date.now();
  const project = of(event.projectId);
  if (event.kind === 'transcript_partial') {
    project.parts.push(event.data.part);
    project.segments += event.data.segments.length;
    project.firstPartAt ??= now;
    project.lastPartAt = now;
  } else if (event.kind === 'transcript_reset') {
    project.parts = [];
    project.segments = 0;
  } else if (event.kind === 'transcript_ready') {
    project.readyAt = now;
  } else if (event.kind === 'completed' || event.kind === 'failed') {
    const inOrder = project.parts.every((p, i) => p === i);
    console.log(JSON.stringify({
      projectId: event.projectId, status: event.kind, parts: project.parts.length, partsInOrder: inOrder, segments: project.segments,
      firstPartAt: project.firstPartAt, lastPartAt: project.lastPartAt, readyAt: project.readyAt, completedAt: now,
    }));
    await connection.stop();
    process.exit(0);
  }
});

await connection.start();
console.error('connected');
