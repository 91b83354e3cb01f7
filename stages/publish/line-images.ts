import { CATEGORY_SLUGS } from '../../lib/constants';
import { composeGrid, upscaleNearest } from '../../lib/images/grid';
import { GrayImage, encodePng } from '../../lib/images/png';

/** Nearest-neighbour enlargement of 28-pixel samples so that they are viewable: 112 pixels. */
export const TILE_SCALE = 4;

/** Gap between grid tiles in pixels, white so that black backgrounds do not merge. */
const GRID_GAP = 2;
const GRID_BACKGROUND = 255;

/** A PNG file to write, named relative to an output folder or prefix. */
export interface NamedPng {
  name: string;
  body: Buffer;
}

/** File name of one (style, category) picture: `style-01-dress.png`, styles counted from 1. */
export function cellFileName(style: number, label: number): string {
  return `style-${String(style + 1).padStart(2, '0')}-${CATEGORY_SLUGS[label]}.png`;
}

/**
 * Encodes fashion lines as one PNG per (style, category), named by cellFileName, plus
 * `lines.png`, the whole table (rows styles, columns categories). Every image is upscaled by
 * `scale`. `tiles` is `[style][column]` and `labels` gives each column's class.
 */
export function encodeLines(tiles: GrayImage[][], labels: number[], scale = TILE_SCALE): NamedPng[] {
  const files: NamedPng[] = [];
  tiles.forEach((row, style) => {
    row.forEach((tile, column) => {
      files.push({
        name: cellFileName(style, labels[column]),
        body: encodePng(upscaleNearest(tile, scale)),
      });
    });
  });
  files.push({ name: 'lines.png', body: encodeGrid(tiles, scale) });
  return files;
}

/** Encodes rows of tiles as one grid PNG with white gaps. */
export function encodeGrid(rows: GrayImage[][], scale: number): Buffer {
  return encodePng(composeGrid(rows, { scale, gap: GRID_GAP, background: GRID_BACKGROUND }));
}
