/**
 * The head (dense softmax on embeddings) trained in plain typed arrays for the transfer phase.
 * With a frozen backbone the head is a multinomial logistic regression (C x K weights): its exact
 * gradient is X^T (P - Y), so a step costs microseconds instead of ~100 TensorFlow.js kernel calls.
 * Adam as in tf.train.adam (beta1 0.9, beta2 0.999, epsilon 1e-7). Weights are exchanged with the
 * tfjs 'head_dense' layer (kernel [C, K], bias [K]) for checkpoints and the saved model.
 */
export class JsHead {
  readonly C: number;
  readonly K: number;
  readonly W: Float32Array;
  readonly b: Float32Array;
  /** Adam's learning rate; the trainer sets it every epoch (warm-up, cosine). */
  lr: number;
  private mW: Float32Array;
  private vW: Float32Array;
  private mb: Float32Array;
  private vb: Float32Array;
  private t = 0;

  constructor(kernel: Float32Array, bias: Float32Array, C: number, K: number, lr: number) {
    this.C = C;
    this.K = K;
    this.W = Float32Array.from(kernel);
    this.b = Float32Array.from(bias);
    this.lr = lr;
    this.mW = new Float32Array(C * K);
    this.vW = new Float32Array(C * K);
    this.mb = new Float32Array(K);
    this.vb = new Float32Array(K);
  }

  /** Softmax probabilities of n rows of x (n x C) into out (n x K); `mask` multiplies x (dropout). */
  forward(x: Float32Array, n: number, out: Float32Array, mask?: Float32Array): void {
    const { C, K, W, b } = this;
    const z = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) z[k] = b[k]!;
      const xo = i * C;
      for (let c = 0; c < C; c++) {
        const v = mask ? x[xo + c]! * mask[xo + c]! : x[xo + c]!;
        if (v === 0) continue;
        const wo = c * K;
        for (let k = 0; k < K; k++) z[k]! += v * W[wo + k]!;
      }
      let max = -Infinity;
      for (let k = 0; k < K; k++) if (z[k]! > max) max = z[k]!;
      let sum = 0;
      for (let k = 0; k < K; k++) sum += z[k] = Math.exp(z[k]! - max);
      for (let k = 0; k < K; k++) out[i * K + k] = z[k]! / sum;
    }
  }

  /**
   * One Adam step on a batch: loss = Σ w_i · CE_i / n (Keras' class-weighted mean). Returns
   * [loss, correct] measured on the forward pass of this step (with dropout).
   */
  step(
    x: Float32Array,
    labels: number[],
    sampleWeights: number[],
    mask: Float32Array | undefined,
    /** Adds further terms' gradients into gW [C x K] before the step (training guided by regions, guide/guidance.ts). */
    extraGradient?: (gW: Float32Array, W: Float32Array) => void,
  ): [number, number] {
    const { C, K, W } = this;
    const n = labels.length;
    const p = new Float32Array(n * K);
    this.forward(x, n, p, mask);
    const gW = new Float32Array(C * K);
    const gb = new Float32Array(K);
    let loss = 0;
    let correct = 0;
    const d = new Float32Array(K);
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      const w = sampleWeights[i]! / n;
      const py = Math.min(1, Math.max(1e-7, p[i * K + y]!));
      loss -= sampleWeights[i]! * Math.log(py);
      let best = 0;
      for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
      if (best === y) correct++;
      for (let k = 0; k < K; k++) {
        d[k] = (p[i * K + k]! - (k === y ? 1 : 0)) * w;
        gb[k]! += d[k]!;
      }
      const xo = i * C;
      for (let c = 0; c < C; c++) {
        const v = mask ? x[xo + c]! * mask[xo + c]! : x[xo + c]!;
        if (v === 0) continue;
        const go = c * K;
        for (let k = 0; k < K; k++) gW[go + k]! += v * d[k]!;
      }
    }
    extraGradient?.(gW, W);
    this.t++;
    this.adam(W, gW, this.mW, this.vW);
    this.adam(this.b, gb, this.mb, this.vb);
    return [loss / n, correct];
  }

  private adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array): void {
    const b1 = 0.9;
    const b2 = 0.999;
    const eps = 1e-7;
    const a = (this.lr * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    for (let i = 0; i < w.length; i++) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      w[i]! -= (a * m[i]!) / (Math.sqrt(v[i]!) + eps);
    }
  }

  /** Mean cross-entropy and accuracy (no dropout). */
  evaluate(x: Float32Array, labels: number[]): { loss: number; acc: number } {
    const n = labels.length;
    if (!n) return { loss: NaN, acc: NaN };
    const p = new Float32Array(n * this.K);
    this.forward(x, n, p);
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      loss -= Math.log(Math.min(1, Math.max(1e-7, p[i * this.K + y]!)));
      let best = 0;
      for (let k = 1; k < this.K; k++) if (p[i * this.K + k]! > p[i * this.K + best]!) best = k;
      if (best === y) correct++;
    }
    return { loss: loss / n, acc: correct / n };
  }
}
