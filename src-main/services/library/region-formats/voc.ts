/** PASCAL VOC annotations (NEU-DET's boxes): parsing and the conversion of a box to a pixel rect. */

export interface VocBox {
  name: string;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** The objects of a PASCAL VOC annotation (name + bndbox); tolerant of whitespace and attribute order. */
export function parseVoc(xml: string): { width: number | null; height: number | null; boxes: VocBox[] } {
  const num = (s: string, tag: string) => {
    const m = new RegExp(`<${tag}>\\s*([-\\d.]+)\\s*</${tag}>`).exec(s);
    return m ? Number(m[1]) : NaN;
  };
  const size = /<size>([\s\S]*?)<\/size>/.exec(xml)?.[1] ?? '';
  const boxes: VocBox[] = [];
  for (const m of xml.matchAll(/<object>([\s\S]*?)<\/object>/g)) {
    const o = m[1]!;
    const name = /<name>\s*([\s\S]*?)\s*<\/name>/.exec(o)?.[1]?.trim();
    const bb = /<bndbox>([\s\S]*?)<\/bndbox>/.exec(o)?.[1];
    if (!name || !bb) continue;
    const b = { name, xmin: num(bb, 'xmin'), ymin: num(bb, 'ymin'), xmax: num(bb, 'xmax'), ymax: num(bb, 'ymax') };
    if ([b.xmin, b.ymin, b.xmax, b.ymax].every(Number.isFinite)) boxes.push(b);
  }
  const w = num(size, 'width');
  const h = num(size, 'height');
  return { width: Number.isFinite(w) ? w : null, height: Number.isFinite(h) ? h : null, boxes };
}

/** VOC box (1-based inclusive corners by the VOC convention) to a pixel rect clamped to the image. */
export function vocToRect(b: VocBox, width: number, height: number): { x: number; y: number; w: number; h: number } | null {
  const x0 = Math.max(0, Math.round(b.xmin) - 1);
  const y0 = Math.max(0, Math.round(b.ymin) - 1);
  const x1 = Math.min(width, Math.round(b.xmax));
  const y1 = Math.min(height, Math.round(b.ymax));
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}
