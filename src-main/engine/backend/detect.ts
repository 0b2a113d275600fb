import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import type { BackendCandidate, BackendName, BackendReport } from '../../shared/types.ts';

const require = createRequire(import.meta.url);

export interface ProbeOptions {
  /**
   * Loads and activates the wasm backend; returns its features, or throws. Injected so the probe
   * has no hard dependency on how the engine sets wasm up (paths, threads, gradient kernels).
   */
  initWasm?: () => Promise<{ simd: boolean; threads: number; missingGradients: string[] }>;
  /** Actually load the native packages (true in the engine process; the CLI doctor too). */
  loadNative?: boolean;
}

function packageDir(name: string): string | null {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function packageVersion(dir: string): string | undefined {
  try {
    return (require(join(dir, 'package.json')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** tfjs-node keeps its N-API binding under lib/napi-v*; it is absent when the install-time download failed. */
function nativeBindingPresent(dir: string): boolean {
  const lib = join(dir, 'lib');
  if (!existsSync(lib)) return false;
  return readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(join(lib, d, 'tfjs_binding.node')));
}

/** Finds a shared library the way the OS loader would (PATH on Windows, ld paths on Linux). */
export function findSharedLibrary(names: string[]): string | null {
  const dirs = new Set<string>();
  const envPath = process.platform === 'win32' ? process.env.PATH : process.env.LD_LIBRARY_PATH;
  for (const d of (envPath ?? '').split(delimiter)) if (d) dirs.add(d);
  if (process.platform === 'win32') {
    const cudaPath = process.env.CUDA_PATH;
    if (cudaPath) dirs.add(join(cudaPath, 'bin'));
  } else {
    for (const d of ['/usr/local/cuda/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/local/lib', '/usr/lib64']) dirs.add(d);
    try {
      const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const n of names) {
        const m = out.match(new RegExp(`\\s${n.replace(/\./g, '\\.')}\\s.*=>\\s*(\\S+)`));
        if (m?.[1]) return m[1];
      }
    } catch {
      // No ldconfig (minimal images): the directory scan below still applies.
    }
  }
  for (const d of dirs) for (const n of names) if (existsSync(join(d, n))) return join(d, n);
  return null;
}

/** tfjs-node-gpu 4.22 is built against CUDA 11.2 and cuDNN 8.1. */
const CUDA_LIBS =
  process.platform === 'win32'
    ? { cudart: ['cudart64_110.dll'], cudnn: ['cudnn64_8.dll'] }
    : { cudart: ['libcudart.so.11.0'], cudnn: ['libcudnn.so.8'] };

function explainLoadError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/NODE_MODULE_VERSION|napi/i.test(msg)) return `native module built for another Node/Electron version (${msg.split('\n')[0]})`;
  if (/cannot open shared object|specified module could not be found|dlopen/i.test(msg))
    return `native library failed to load: ${msg.split('\n')[0]}`;
  return msg.split('\n')[0] ?? msg;
}

async function probeNative(name: 'tfjs-node-gpu' | 'tfjs-node', load: boolean): Promise<BackendCandidate> {
  const pkg = `@tensorflow/${name}`;
  const dir = packageDir(pkg);
  if (!dir)
    return {
      name,
      available: false,
      code: 'not-installed',
      reason: 'not installed (optional dependency; its install needs network access and build tools)',
    };
  const version = packageVersion(dir);
  const base = { name, ...(version ? { version } : {}) };
  if (!nativeBindingPresent(dir)) {
    return {
      ...base,
      available: false,
      code: 'no-libtensorflow',
      reason: 'installed, but libtensorflow is missing: the download during install failed (offline?). Reinstall it with network access.',
    };
  }
  if (name === 'tfjs-node-gpu') {
    // The CUDA runtime first: without it cuDNN's absence says nothing new.
    for (const [code, files, what] of [
      ['no-cuda', CUDA_LIBS.cudart, 'CUDA runtime 11.2 not found (%s); install CUDA 11.2 and an NVIDIA driver'],
      ['no-cudnn', CUDA_LIBS.cudnn, 'cuDNN 8.1 not found (%s)'],
    ] as const) {
      if (findSharedLibrary([...files])) continue;
      const list = files.join(', ');
      return { ...base, available: false, code, params: { files: list }, reason: what.replace('%s', list) };
    }
  }
  if (!load)
    return { ...base, available: true, code: 'native-present', reason: 'installed with its native library (not loaded in this process)' };
  try {
    require(pkg);
    return {
      ...base,
      available: true,
      code: name === 'tfjs-node-gpu' ? 'gpu-loaded' : 'node-loaded',
      reason: name === 'tfjs-node-gpu' ? 'loaded; CUDA and cuDNN found' : 'loaded (native TensorFlow on the CPU)',
    };
  } catch (err) {
    const detail = explainLoadError(err);
    return { ...base, available: false, code: 'native-load-failed', params: { detail }, reason: detail };
  }
}

/**
 * Probes every backend and picks the best for training and for inference. Never pretends: a
 * backend is "available" only when it loaded (or, with loadNative false, when its files are there).
 */
export async function probeBackends(opts: ProbeOptions = {}): Promise<BackendReport> {
  const load = opts.loadNative ?? true;
  const gpu = await probeNative('tfjs-node-gpu', load);
  // Loading both native packages in one process clashes (both register 'tensorflow'): skip CPU when GPU loaded.
  const node = gpu.available
    ? ({
        name: 'tfjs-node',
        available: false,
        code: 'not-needed',
        reason: 'not needed: tfjs-node-gpu is in use',
      } satisfies BackendCandidate)
    : await probeNative('tfjs-node', load);

  let wasm: BackendCandidate;
  let wasmTrains = false;
  const tfjsDir = packageDir('@tensorflow/tfjs-backend-wasm');
  if (!tfjsDir) wasm = { name: 'wasm', available: false, code: 'not-installed', reason: 'not installed' };
  else if (!opts.initWasm)
    wasm = {
      name: 'wasm',
      available: true,
      code: 'wasm-present',
      reason: 'installed (not initialised in this process)',
      version: packageVersion(tfjsDir) ?? '',
    };
  else {
    try {
      const f = await opts.initWasm();
      wasmTrains = f.missingGradients.length === 0;
      wasm = {
        name: 'wasm',
        available: true,
        version: packageVersion(tfjsDir) ?? '',
        code: wasmTrains ? 'wasm-trains' : 'wasm-no-training',
        params: { simd: f.simd ? ' + SIMD' : '', threads: f.threads, missing: f.missingGradients.join(', ') },
        reason:
          `WebAssembly (XNNPACK${f.simd ? ', SIMD' : ''}, ${f.threads} thread${f.threads === 1 ? '' : 's'})` +
          (wasmTrains
            ? '; Kensa gradient kernels registered, so it also trains'
            : `; cannot train: missing ${f.missingGradients.join(', ')}`),
        details: { simd: f.simd, threads: f.threads, trains: wasmTrains },
      };
    } catch (err) {
      const detail = explainLoadError(err);
      wasm = { name: 'wasm', available: false, code: 'wasm-failed', params: { detail }, reason: `failed to start: ${detail}` };
    }
  }
  const cpu: BackendCandidate = { name: 'cpu', available: true, code: 'cpu', reason: 'pure JavaScript; always available, slowest' };

  const candidates = [gpu, node, wasm, cpu];
  const pick = (allowed: BackendName[]): BackendName => candidates.find((c) => c.available && allowed.includes(c.name))?.name ?? 'cpu';
  const inference = pick(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
  const training = pick(wasmTrains ? ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] : ['tfjs-node-gpu', 'tfjs-node', 'cpu']);
  return { training, inference, candidates, checkedAt: new Date().toISOString() };
}
