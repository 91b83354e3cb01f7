import { GrayImage } from './png';

/** Layout of a grid of equally sized tiles. */
export interface GridOptions {
  /** Nearest-neighbour upscaling factor applied to every tile, a positive integer. */
  scale?: number;
  /** Pixels between tiles and around the border, after scaling. */
  gap?: number;
  /** Byte value of the gaps, 0-255. */
  background?: number;
}

/**
 * Enlarges an image by an integer factor, repeating each pixel in a `factor x factor` block so
 * that a 28-pixel sample stays sharp instead of blurring.
 */
export function upscaleNearest(image: GrayImage, factor: number): GrayImage {
  checkFactor(factor);
  const width = image.width * factor;
  const height = image.height * factor;
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    const sourceRow = Math.floor(y / factor) * image.width;
    for (let x = 0; x < width; x += 1) {
      pixels[y * width + x] = image.pixels[sourceRow + Math.floor(x / factor)];
    }
  }
  return { width, height, pixels };
}

/**
 * Lays tiles out in rows, `rows[r][c]` at row r and column c, each upscaled by `scale`. Every
 * tile must have the size of the first one. Rows may be shorter than the longest row, and the
 * cells they leave empty get the background.
 */
export function composeGrid(rows: GrayImage[][], options: GridOptions = {}): GrayImage {
  const scale = options.scale ?? 1;
  const gap = options.gap ?? 0;
  const background = options.background ?? 0;
  checkFactor(scale);

  const first = rows.find((row) => row.length > 0)?.[0];
  if (!first) throw new Error('composeGrid: no tiles');
  const tileWidth = first.width * scale;
  const tileHeight = first.height * scale;
  const columns = Math.max(...rows.map((row) => row.length));

  const width = columns * tileWidth + (columns + 1) * gap;
  const height = rows.length * tileHeight + (rows.length + 1) * gap;
  const pixels = new Uint8Array(width * height).fill(background);

  rows.forEach((row, r) => {
    row.forEach((tile, c) => {
      if (tile.width !== first.width || tile.height !== first.height) {
        throw new Error(
          `composeGrid: tile [${r}][${c}] is ${tile.width}x${tile.height}, ` +
            `expected ${first.width}x${first.height}`,
        );
      }
      const scaled = scale === 1 ? tile : upscaleNearest(tile, scale);
      const left = gap + c * (tileWidth + gap);
      const top = gap + r * (tileHeight + gap);
      for (let y = 0; y < tileHeight; y += 1) {
        const source = scaled.pixels.subarray(y * tileWidth, (y + 1) * tileWidth);
        pixels.set(source, (top + y) * width + left);
      }
    });
  });
  return { width, height, pixels };
}

function checkFactor(factor: number): void {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new Error(`image scale must be a positive integer, got ${factor}`);
  }
}
