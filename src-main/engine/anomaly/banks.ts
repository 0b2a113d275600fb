/**
 * The memory banks of an anomaly model: one bank of all good images, or one bank per core type (stator and rotor
 * cores, mono- and polycrystalline cells: each type's normal texture can be the other type's defect, so a single
 * bank would call both normal). Each bank has a scale, its type's typical good score (set from held-out good images
 * of that type), and its distances are divided by it, so that one threshold means the same for every type.
 * An image scores against its own type's bank; an image of a type without a bank against all banks (the smallest
 * scaled distance per patch). Engine side only.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnomalyBankInfo } from '../../shared/training-types.ts';
import { PatchBank } from './knn.ts';

/** The type of the bank learnt from all good images together (no per-type banks). */
export const ALL_TYPES = '';

interface Bank {
  coreType: string;
  bank: PatchBank;
  rows: Float32Array;
  m: number;
  images: number;
  scale: number;
}

export class BankSet {
  readonly dim: number;
  private readonly list: Bank[] = [];

  constructor(dim: number) {
    this.dim = dim;
  }

  get size(): number {
    return this.list.reduce((a, b) => a + b.m, 0);
  }

  get count(): number {
    return this.list.length;
  }

  /** What kensa-model.json records per bank (absent for the one bank of all types). */
  info(): AnomalyBankInfo[] {
    return this.list.map((b) => ({ coreType: b.coreType, rows: b.m, images: b.images, scale: b.scale }));
  }

  /** Adds (or replaces) the bank of `coreType`. @param rows [m * dim] row-major */
  set(coreType: string, rows: Float32Array, m: number, images: number, scale = 1): void {
    const i = this.list.findIndex((b) => b.coreType === coreType);
    const bank = { coreType, bank: PatchBank.fromArray(rows, m, this.dim), rows, m, images, scale };
    if (i >= 0) {
      this.list[i]!.bank.dispose();
      this.list[i] = bank;
    } else this.list.push(bank);
  }

  setScale(coreType: string, scale: number): void {
    const b = this.list.find((x) => x.coreType === coreType);
    if (b && scale > 0) b.scale = scale;
  }

  has(coreType: string): boolean {
    return this.list.some((b) => b.coreType === coreType);
  }

  /** All rows, bank after bank (anomaly-bank.bin). */
  data(): Float32Array {
    if (this.list.length === 1) return this.list[0]!.rows;
    const out = new Float32Array(this.size * this.dim);
    let off = 0;
    for (const b of this.list) {
      out.set(b.rows, off);
      off += b.rows.length;
    }
    return out;
  }

  /** Rebuilds the banks from anomaly-bank.bin's rows. @param info per bank, in file order (empty: one bank) */
  load(rows: Float32Array, info: readonly AnomalyBankInfo[]): void {
    this.dispose();
    if (!info.length) {
      this.set(ALL_TYPES, rows, rows.length / this.dim, 0);
      return;
    }
    let off = 0;
    for (const b of info) {
      const n = b.rows * this.dim;
      this.set(b.coreType, rows.slice(off, off + n), b.rows, b.images, b.scale);
      off += n;
    }
  }

  /**
   * Scaled nearest-bank distance of every patch.
   * @param feats [n * per, dim] patch features, image-major
   * @param types core type per image (null or a type without a bank: against all banks)
   * @returns [n * per]
   */
  async distances(feats: tf.Tensor2D, types: readonly (string | null)[], per: number): Promise<Float32Array> {
    if (!this.list.length) throw new Error('The anomaly model has no memory bank');
    const d = tf.tidy(() => tf.stack(this.list.map((b) => tf.div(tf.sqrt(b.bank.nearestSquared(feats)), b.scale))));
    const all = (await d.data()) as Float32Array;
    d.dispose();
    const total = feats.shape[0];
    if (this.list.length === 1) return all;
    const out = new Float32Array(total);
    const byType = new Map(this.list.map((b, i) => [b.coreType, i]));
    for (let img = 0; img * per < total; img++) {
      const own = byType.get(types[img] ?? '\0');
      for (let k = img * per; k < (img + 1) * per; k++) {
        if (own !== undefined) out[k] = all[own * total + k]!;
        else {
          let m = Infinity;
          for (let b = 0; b < this.list.length; b++) m = Math.min(m, all[b * total + k]!);
          out[k] = m;
        }
      }
    }
    return out;
  }

  dispose(): void {
    for (const b of this.list) b.bank.dispose();
    this.list.length = 0;
  }
}
