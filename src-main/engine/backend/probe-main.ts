// Child-process entry: probes the TensorFlow backends and sends the report to the parent.
// No top-level await: the Electron build bundles this file as CommonJS.
import { probeBackends } from './detect.ts';
import { initWasmForProbe } from './wasm-init.ts';

void probeBackends({ loadNative: true, initWasm: initWasmForProbe }).then((report) => process.send?.(report));
