/**
 * The activation-gradient loop as a 128-bit WebAssembly SIMD function that runs on the tfjs wasm backend's own
 * memory: four floats per step, no branches, about 5x the JS loop (which V8 does not vectorise).
 *
 * The module is assembled here from its instructions rather than shipped as a binary, so what runs can be read:
 *
 *   (func (export "g") (param $dx i32) (param $dy i32) (param $x i32) (param $n i32)
 *                      (param $lo f32) (param $hi f32) (param $includeLo i32)
 *     ;; for each 4 floats v of x (n a multiple of 4, byte pointers):
 *     ;;   pass = (v > lo | (v == lo & includeLo)) & v <= hi      all-ones lanes where the gradient passes
 *     ;;   dx   = dy & pass                                        dy there, +0 elsewhere (NaN never passes)
 *
 * It imports the backend's memory: shared for the threaded build, plain for the single-threaded one.
 */
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// Instructions (core and 0xfd-prefixed SIMD opcodes from the WebAssembly 2.0 spec).
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
const i32const = (v: number) => [0x41, ...uleb(v)]; // small non-negative values only (signed LEB = unsigned below 64)
const simd = (op: number) => [0xfd, ...uleb(op)];
const MEMARG_16 = [4, 0]; // alignment hint 2^4, offset 0
const op = {
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  i32LtU: [0x49],
  v128Load: [...simd(0x00), ...MEMARG_16],
  v128Store: [...simd(0x0b), ...MEMARG_16],
  i32x4Splat: simd(0x11),
  f32x4Splat: simd(0x13),
  f32x4Eq: simd(0x41),
  f32x4Gt: simd(0x44),
  f32x4Le: simd(0x45),
  v128And: simd(0x4e),
  v128Or: simd(0x50),
};

// Params 0-6 as in the header; locals: 7 end pointer (i32), 8 lo×4, 9 hi×4, 10 includeLo mask, 11 v (v128).
const [DX, DY, X, N, LO, HI, INCL, END, VLO, VHI, VINCL, V] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

// prettier-ignore
const body: number[] = [
  ...[2, 1, I32, 4, V128], // local declarations: 1 × i32, 4 × v128
  ...get(N), ...i32const(2), ...op.i32Shl, ...get(X), ...op.i32Add, ...set(END),
  ...get(LO), ...op.f32x4Splat, ...set(VLO),
  ...get(HI), ...op.f32x4Splat, ...set(VHI),
  ...i32const(0), ...get(INCL), ...op.i32Sub, ...op.i32x4Splat, ...set(VINCL), // includeLo ? -1 : 0 in each lane
  0x02, 0x40, // block
  ...get(X), ...get(END), ...op.i32GeU, 0x0d, 0, // n == 0: done
  0x03, 0x40, // loop
  ...get(X), ...op.v128Load, ...set(V),
  ...get(DX), // store address
  ...get(DY), ...op.v128Load,
  ...get(V), ...get(VLO), ...op.f32x4Gt,
  ...get(V), ...get(VLO), ...op.f32x4Eq, ...get(VINCL), ...op.v128And,
  ...op.v128Or,
  ...get(V), ...get(VHI), ...op.f32x4Le,
  ...op.v128And,
  ...op.v128And,
  ...op.v128Store,
  ...get(DX), ...i32const(16), ...op.i32Add, ...set(DX),
  ...get(DY), ...i32const(16), ...op.i32Add, ...set(DY),
  ...get(X), ...i32const(16), ...op.i32Add, ...tee(X),
  ...get(END), ...op.i32LtU, 0x0d, 0, // continue while x < end
  0x0b, // end loop
  0x0b, // end block
  0x0b, // end function
];

function moduleBytes(shared: boolean): Uint8Array {
  const maxPages = uleb(65536);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 7, I32, I32, I32, I32, F32, F32, I32, 0]), // type: (i32 ×4, f32 ×2, i32) -> ()
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, shared ? 0x03 : 0x01, 1, ...maxPages]),
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(7, [1, ...name('g'), 0x00, 0]), // export "g" = function 0
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The part of the WebAssembly API used here (tsconfig's lib has no DOM and @types/node does not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type WindowGradFn = (dx: number, dy: number, x: number, n: number, lo: number, hi: number, includeLo: number) => void;

const compiled = new Map<boolean, object | null>();
const instances = new WeakMap<WasmMemory, WindowGradFn | null>();

/**
 * The SIMD loop bound to `memory`, or null where this WebAssembly lacks SIMD (the caller keeps its JS loop).
 * Arguments are byte offsets into that memory and a float count that is a multiple of 4.
 */
export function simdWindowGrad(memory: WasmMemory): WindowGradFn | null {
  const hit = instances.get(memory);
  if (hit !== undefined) return hit;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  let mod = compiled.get(shared);
  if (mod === undefined) {
    try {
      mod = new WA.Module(moduleBytes(shared));
    } catch {
      mod = null;
    }
    compiled.set(shared, mod);
  }
  let fn: WindowGradFn | null = null;
  if (mod) {
    try {
      fn = new WA.Instance(mod, { env: { memory } }).exports['g'] as WindowGradFn;
    } catch {
      fn = null;
    }
  }
  instances.set(memory, fn);
  return fn;
}
