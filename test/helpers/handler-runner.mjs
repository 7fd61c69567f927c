// A stand-in for the Lambda Node.js runtime, forked by the local gateway. Like the real runtime it
// loads the module named by `_HANDLER` (`index.handler` -> ./index.mjs, export `handler`) from
// LAMBDA_TASK_ROOT once (init), then serves invocations; it talks to its parent over IPC.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const spec = process.env._HANDLER ?? 'index.handler';
const dot = spec.lastIndexOf('.');
const modulePath = spec.slice(0, dot);
const exportName = spec.slice(dot + 1);

async function loadHandler() {
  // The runtime tries these extensions in this order.
  const file = ['.mjs', '.js', '.cjs'].map((ext) => join(root, modulePath + ext)).find((f) => existsSync(f));
  if (!file) throw new Error(`Cannot find module '${modulePath}' in ${root} (Runtime.ImportModuleError)`);
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName] ?? module.default?.[exportName];
  if (typeof handler !== 'function') throw new Error(`${spec} is undefined or not exported (Runtime.HandlerNotFound)`);
  return handler;
}

function serializeError(error) {
  return error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : { name: 'Error', message: String(error) };
}

function contextFor(meta) {
  return {
    ...meta,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, meta.deadlineMs - Date.now()),
  };
}

function call(handler, event, context) {
  // Callback-style handlers (three parameters) are still supported by the Node.js runtime.
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      const returned = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
      if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
    });
  }
  return Promise.resolve().then(() => handler(event, context));
}

let handler;
try {
  handler = await loadHandler();
  process.send({ type: 'ready' });
} catch (error) {
  console.error('INIT_ERROR', error);
  process.send({ type: 'init-error', error: serializeError(error) }, () => process.exit(1));
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke' || !handler) return;
  try {
    const result = await call(handler, message.event, contextFor(message.context));
    process.send({ type: 'result', id: message.id, result: result === undefined ? null : result });
  } catch (error) {
    // The runtime logs a failed invocation before reporting it.
    console.error(`${new Date().toISOString()}\t${message.context.awsRequestId}\tERROR\tInvoke Error`, error);
    process.send({ type: 'error', id: message.id, error: serializeError(error) });
  }
});
