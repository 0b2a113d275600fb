/**
 * Starts tfjs's wasm backend under Node with the gradient kernels registered.
 *
 * Threads: tfjs-backend-wasm refuses its threaded-SIMD build under Node
 * (WASM_HAS_MULTITHREAD_SUPPORT is false there, and its loader hands the
 * emscripten pthread workers blob: URLs that worker_threads cannot load).
 * The build itself works under Node 22 when given real files, and on a
 * 2-core machine it roughly halves XNNPACK GEMM/conv time (1024^2 matMul
 * 71 -> 36 ms, a [16,14,14,384] pointwise conv 46 -> 18 ms). So for threads > 1
 * this module instantiates that build itself: the worker script (shipped only
 * as a JS string) is written to a temp folder, the main script is copied next
 * to it (packaged apps may keep node_modules in an archive workers cannot
 * read), and the resulting module is handed to BackendWasm under the 'wasm'
 * name, so every registered wasm kernel applies. Any failure there falls back
 * to the stock single-threaded SIMD build.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels } from './index.ts';

export interface WasmBackendInfo {
  /** Whether the SIMD build runs. */
  simd: boolean;
  /** XNNPACK threads actually in use. */
  threads: number;
}

const require = createRequire(import.meta.url);
const PKG = '@tensorflow/tfjs-backend-wasm';
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;
/** The threaded build pre-spawns 8 pthread workers; XNNPACK cannot use more. */
const MAX_THREADS = 8;
/** Instantiation takes ~0.15 s; a hang (workers that never load) must not block training. */
const INSTANTIATE_TIMEOUT_MS = 20_000;

let started: Promise<WasmBackendInfo> | undefined;

/**
 * Registers the gradient kernels and makes 'wasm' the active backend.
 * threads defaults to the machine's available parallelism; 1 selects the
 * stock single-threaded build. Later calls return the first call's result.
 */
export function initWasmBackend(opts: { threads?: number } = {}): Promise<WasmBackendInfo> {
  started ??= start(opts).catch((err: unknown) => {
    started = undefined;
    throw err;
  });
  return started;
}

async function start(opts: { threads?: number }): Promise<WasmBackendInfo> {
  registerWasmGradientKernels();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const requested = opts.threads !== undefined && Number.isFinite(opts.threads) ? opts.threads : os.availableParallelism();
  const wanted = Math.max(1, Math.min(MAX_THREADS, Math.floor(requested)));

  // Swapping the backend factory is only safe before wasm has been started:
  // removing a live backend would dispose its tensors.
  const threaded = wanted > 1 && simd && tf.findBackend('wasm') == null && (await installThreadedBackend(wanted));
  if (!threaded) {
    setWasmPaths(Object.fromEntries(WASM_FILES.map((name) => [name, require.resolve(`${PKG}/dist/${name}`)])));
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
  return { simd, threads: getThreadsCount() };
}

/** Emscripten module of the threaded build, as BackendWasm expects it. */
type WasmModule = ConstructorParameters<typeof BackendWasm>[0];

interface ThreadedModuleExtras {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => unknown;
  PThread?: { runningWorkers?: Array<{ unref?: () => void }> };
}

type ThreadedFactory = (config: Record<string, unknown>) => Promise<ThreadedModuleExtras>;

async function installThreadedBackend(threads: number): Promise<boolean> {
  try {
    const mainScriptSrc = require.resolve(`${PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.js`);
    const factory = require(mainScriptSrc) as ThreadedFactory;
    const { wasmWorkerContents } = require(`${PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`) as {
      wasmWorkerContents: string;
    };
    const wasmFile = require.resolve(`${PKG}/dist/tfjs-backend-wasm-threaded-simd.wasm`);
    // The string holds escaped newlines inside JS string literals; tfjs
    // re-escapes them the same way before turning it into a worker.
    const workerFile = writeCached('worker.cjs', wasmWorkerContents.replace(/\n/g, '\\n'));
    const mainScript = writeCached('main.cjs', fs.readFileSync(mainScriptSrc, 'utf8'));

    // tfjs sizes its thread pool as min(requested, logical cores / 2),
    // assuming SMT siblings; that leaves one thread on 2-vCPU machines and
    // CI runners. Its C++ reads the core count (require('os').cpus().length)
    // once, while the module instantiates.
    const osModule = require('node:os') as { cpus: () => os.CpuInfo[] };
    const realCpus = osModule.cpus;
    const virtualCpu: os.CpuInfo = { model: 'virtual', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
    osModule.cpus = () => Array.from({ length: 2 * threads }, () => virtualCpu);
    let module: ThreadedModuleExtras;
    try {
      module = await withTimeout(
        factory({
          locateFile: (file: string, prefix: string) =>
            file.endsWith('.worker.js') ? workerFile : file.endsWith('.wasm') ? wasmFile : prefix + file,
          mainScriptUrlOrBlob: mainScript,
        }),
        INSTANTIATE_TIMEOUT_MS,
      );
    } finally {
      osModule.cpus = realCpus;
    }
    // Same bridge as tfjs-backend-wasm's own init().
    Object.assign(module, {
      tfjs: {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      },
    });
    setThreadsCount(threads);
    const backend = new BackendWasm(module as unknown as WasmModule);
    // The constructor started XNNPACK's pool threads; emscripten ref()s the
    // worker of each running pthread, and these never finish, so without this
    // a script or test using the backend would never exit.
    for (const worker of module.PThread?.runningWorkers ?? []) worker.unref?.();
    tf.removeBackend('wasm');
    // Priority 2 is what tfjs-backend-wasm registers itself with.
    tf.registerBackend('wasm', () => backend, 2);
    return true;
  } catch (err) {
    console.warn(`tfjs wasm: threaded build unavailable, using single-threaded SIMD (${String(err)})`);
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Writes `content` once per version/content into a temp folder; returns its path. */
function writeCached(name: string, content: string): string {
  const digest = createHash('sha256').update(content).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `kensa-tfjs-wasm-${version_wasm}`);
  const file = path.join(dir, `${digest}-${name}`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    // Write-then-rename so a concurrent process never loads a partial file.
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, content);
    fs.renameSync(partial, file);
  }
  return file;
}
