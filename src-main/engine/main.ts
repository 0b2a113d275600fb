/**
 * Engine process entry (child_process.fork under Node, utilityProcess in Electron). Picks the
 * TensorFlow backends, then runs jobs from the registry on request, one message protocol
 * (protocol.ts) over either transport. Heavy ML work lives here so a native crash or an
 * out-of-memory cannot take the catalog down with it.
 */
import * as tf from '@tensorflow/tfjs';
import { CancelledError, serializeError } from '../shared/errors.ts';
import type { BackendReport } from '../shared/types.ts';
import { probeBackends } from './backend/detect.ts';
import { initWasmForProbe } from './backend/wasm-init.ts';
import { tfBackendName } from './model/tf-util.ts';
import { PauseGate } from './train/pause-gate.ts';
import type { EngineContext } from './job.ts';
import { engineJobs } from './jobs/index.ts';
import type { FromEngine, ToEngine } from '../services/engine/protocol.ts';

interface ParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', fn: (e: { data: unknown }) => void): void;
}

// Electron's utilityProcess exposes process.parentPort; Node's fork an IPC channel.
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
function send(msg: FromEngine): void {
  if (parentPort) parentPort.postMessage(msg);
  else process.send?.(msg);
}
function onMessage(fn: (msg: ToEngine) => void): void {
  if (parentPort) parentPort.on('message', (e) => fn(e.data as ToEngine));
  else process.on('message', (m) => fn(m as ToEngine));
}

const running = new Map<string, { controller: AbortController; pause: PauseGate }>();
let report: BackendReport;
let backends: { training: string; inference: string };
const queue: ToEngine[] = [];
let ready = false;

async function start(): Promise<void> {
  report = await probeBackends({ loadNative: true, initWasm: initWasmForProbe });
  backends = { training: tfBackendName(report.training), inference: tfBackendName(report.inference) };
  for (const b of new Set([backends.training, backends.inference])) {
    const ok = await tf.setBackend(b);
    if (!ok) throw new Error(`Backend ${b} failed to start`);
  }
  await tf.setBackend(backends.inference);
  ready = true;
  send({ type: 'ready', pid: process.pid, report, backends });
  for (const m of queue.splice(0)) handle(m);
}

function handle(msg: ToEngine): void {
  switch (msg.type) {
    case 'crash':
      process.exit(70);
      break;
    case 'shutdown':
      for (const r of running.values()) r.controller.abort();
      setTimeout(() => process.exit(0), 50);
      break;
    case 'cancel':
      running.get(msg.jobId)?.controller.abort();
      break;
    case 'pause':
    case 'resume':
      running.get(msg.jobId)?.pause.set(msg.type === 'pause');
      break;
    case 'start':
      void runJob(msg);
      break;
  }
}

async function runJob(msg: Extract<ToEngine, { type: 'start' }>): Promise<void> {
  const job = engineJobs.find((j) => j.kind === msg.kind);
  const controller = new AbortController();
  const pause = new PauseGate();
  running.set(msg.jobId, { controller, pause });
  const ctx: EngineContext = {
    signal: controller.signal,
    pause,
    throwIfCancelled: () => {
      if (controller.signal.aborted) throw new CancelledError('Cancelled by the user');
    },
    emit: (event) => send({ type: 'event', jobId: msg.jobId, event }),
    backends,
    report,
    log: (message) => send({ type: 'log', level: 'info', message }),
  };
  try {
    if (!job) throw new Error(`Unknown engine job: ${msg.kind}`);
    const result = await (job.run as (p: unknown, c: EngineContext) => Promise<unknown>)(msg.params, ctx);
    send({ type: 'result', jobId: msg.jobId, result });
  } catch (err) {
    send({ type: 'error', jobId: msg.jobId, error: serializeError(err) });
  } finally {
    running.delete(msg.jobId);
  }
}

onMessage((msg) => {
  if (!ready && msg.type === 'start') queue.push(msg);
  else handle(msg);
});

process.on('disconnect', () => process.exit(0));

start().catch((err) => {
  send({ type: 'fatal', error: serializeError(err) });
  setTimeout(() => process.exit(1), 50);
});
