// Loads the unpacked handler once, as a warm Lambda sandbox would, and times `count` deliveries in a
// row, each for a new Scalr task. Prints one JSON line: module load time and per-delivery times.
import { pathToFileURL } from 'node:url';

const [entry, countArg] = process.argv.slice(2);
const count = Number(countArg);
const loadStarted = performance.now();
const { handler } = await import(pathToFileURL(entry).href);
const loadMs = performance.now() - loadStarted;
const log = console.log;
console.log = () => {}; // the handler's own log line per delivery is not part of this output

const deliveries = [];
for (let i = 0; i < count; i++) {
  const taskId = `atask-bench${process.pid}x${i}`;
  const event = {
    headers: {
      'Content-Type': 'application/json',
      'Idempotency-Key': taskId,
      'X-Scalr-Token': 'bench-pool-token',
      'X-Scalr-Url': 'https://acme.scalr.io',
    },
    body: JSON.stringify({ task_id: taskId, action: 'plan', run_id: `run-bench${i}`, workspace_id: 'ws-bench', environment_id: 'env-bench' }),
  };
  const started = performance.now();
  const result = await handler(event, { getRemainingTimeInMillis: () => 30_000 });
  deliveries.push({ ms: performance.now() - started, statusCode: result.statusCode });
}
log(JSON.stringify({ loadMs, deliveries }));
