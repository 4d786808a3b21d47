import { inflateSync } from 'node:zlib';

/** A decoded 8-bit PNG (what Chromium's screenshots are): width, height and RGBA pixels. */
export interface Image {
  width: number;
  height: number;
  /** RGBA, row by row. */
  pixels: Uint8Array;
}

/**
 * Decodes a non-interlaced 8-bit RGB or RGBA PNG, enough to check a screenshot's content without an
 * image library: chunk walk, inflate, and the five scanline filters of the PNG spec.
 */
export function decodePng(png: Buffer): Image {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colorType, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6)) {
        throw new Error(`unsupported PNG (depth ${depth}, colour type ${colorType}, interlace ${interlace})`);
      }
      channels = colorType === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      const x = line[i]!;
      if (filter === 0) cur[i] = x;
      else if (filter === 1) cur[i] = x + a;
      else if (filter === 2) cur[i] = x + b;
      else if (filter === 3) cur[i] = x + ((a + b) >> 1);
      else {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        cur[i] = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    }
    for (let px = 0; px < width; px++) {
      const o = (y * width + px) * 4;
      out[o] = cur[px * channels]!;
      out[o + 1] = cur[px * channels + 1]!;
      out[o + 2] = cur[px * channels + 2]!;
      out[o + 3] = channels === 4 ? cur[px * channels + 3]! : 255;
    }
    prev = cur;
  }
  return { width, height, pixels: out };
}

/** How many pixels are within `tolerance` of an RGB colour. */
export function countColor(image: Image, [r, g, b]: [number, number, number], tolerance = 8): number {
  let n = 0;
  for (let i = 0; i < image.pixels.length; i += 4) {
    if (
      Math.abs(image.pixels[i]! - r) <= tolerance &&
      Math.abs(image.pixels[i + 1]! - g) <= tolerance &&
      Math.abs(image.pixels[i + 2]! - b) <= tolerance
    ) {
      n++;
    }
  }
  return n;
}

/** The number of distinct colours (a blank page has one or two). */
export function distinctColors(image: Image): number {
  const seen = new Set<number>();
  for (let i = 0; i < image.pixels.length; i += 4) {
    seen.add((image.pixels[i]! << 16) | (image.pixels[i + 1]! << 8) | image.pixels[i + 2]!);
  }
  return seen.size;
}
