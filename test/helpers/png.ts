import { expect } from 'vitest';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk; fails the test when the bytes are no PNG. */
export function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(SIGNATURE), 'PNG signature').toBe(true);
  expect(png.subarray(12, 16).toString('ascii'), 'first chunk is IHDR').toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** A chart a person can read: a real PNG of a sensible size. */
export function expectChartPng(png: Buffer): void {
  const { width, height } = pngSize(png);
  expect(width).toBeGreaterThanOrEqual(400);
  expect(width).toBeLessThanOrEqual(2_000);
  expect(height).toBeGreaterThanOrEqual(200);
  expect(height).toBeLessThanOrEqual(2_000);
}
