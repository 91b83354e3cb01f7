import { escapeHtml } from './html';

/** One line of logs/losses.jsonl, as the train stage writes it. */
export interface LossRecord {
  step: number;
  epoch: number;
  dLoss: number;
  gLoss: number;
  dReal?: number;
  dFake?: number;
  imagesPerSecond?: number;
  time?: string | number;
}

/** A named series of a chart, drawn in the CSS class `series-<index>`. */
export interface ChartSeries {
  name: string;
  points: Array<[number, number]>;
}

const WIDTH = 640;
const HEIGHT = 240;
const MARGIN = { left: 48, right: 12, top: 12, bottom: 32 };
/** More points than this are averaged in buckets; a 640-pixel chart cannot show more. */
const MAX_POINTS = 320;

/**
 * Renders series as an inline SVG line chart with axes, ticks and a legend. The x axis is the
 * training step. Returns a paragraph instead when no series has a finite point.
 */
export function renderLineChart(title: string, series: ChartSeries[]): string {
  const drawn = series
    .map((entry) => ({ ...entry, points: thin(entry.points.filter(isFinitePoint)) }))
    .filter((entry) => entry.points.length > 0);
  if (drawn.length === 0) return `<p class="empty">${escapeHtml(title)}: no values logged.</p>`;

  const all = drawn.flatMap((entry) => entry.points);
  const [xMin, xMax] = extent(all.map(([x]) => x));
  const [yMin, yMax] = extent(all.map(([, y]) => y));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const sy = (y: number) => MARGIN.top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight;

  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" ` +
      `aria-label="${escapeHtml(title)}" xmlns="http://www.w3.org/2000/svg">`,
  );
  parts.push(`<title>${escapeHtml(title)}</title>`);
  parts.push(axes(sx, sy, [xMin, xMax], [yMin, yMax]));
  drawn.forEach((entry, index) => {
    const path = entry.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join('');
    parts.push(`<path class="series series-${index}" d="${path}"/>`);
  });
  parts.push(legend(drawn.map((entry) => entry.name)));
  parts.push('</svg>');
  return parts.join('\n');
}

/** Renders the loss chart and, when logged, the discriminator's outputs on real and fake. */
export function renderTrainingCurves(records: LossRecord[]): string {
  const pick = (name: string, value: (record: LossRecord) => number | undefined): ChartSeries => ({
    name,
    points: records.map((record) => [record.step, value(record) ?? Number.NaN]),
  });
  const losses = renderLineChart('Losses by step', [
    pick('discriminator loss', (record) => record.dLoss),
    pick('generator loss', (record) => record.gLoss),
  ]);
  const hasOutputs = records.some((record) => Number.isFinite(record.dReal ?? Number.NaN));
  const outputs = hasOutputs
    ? renderLineChart('Discriminator output by step', [
        pick('D(real)', (record) => record.dReal),
        pick('D(fake)', (record) => record.dFake),
      ])
    : '';
  return `<div class="charts">\n${losses}\n${outputs}\n</div>`;
}

function axes(
  sx: (x: number) => number,
  sy: (y: number) => number,
  [xMin, xMax]: [number, number],
  [yMin, yMax]: [number, number],
): string {
  const lines: string[] = [];
  const bottom = HEIGHT - MARGIN.bottom;
  lines.push(`<line class="axis" x1="${MARGIN.left}" y1="${bottom}" x2="${WIDTH - MARGIN.right}" y2="${bottom}"/>`);
  lines.push(`<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}"/>`);
  for (const x of ticks(xMin, xMax)) {
    lines.push(`<text class="tick" x="${sx(x).toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${label(x)}</text>`);
  }
  for (const y of ticks(yMin, yMax)) {
    const at = sy(y).toFixed(1);
    lines.push(`<line class="grid" x1="${MARGIN.left}" y1="${at}" x2="${WIDTH - MARGIN.right}" y2="${at}"/>`);
    lines.push(`<text class="tick" x="${MARGIN.left - 4}" y="${at}" text-anchor="end" dominant-baseline="middle">${label(y)}</text>`);
  }
  lines.push(`<text class="tick" x="${WIDTH - MARGIN.right}" y="${HEIGHT - 2}" text-anchor="end">step</text>`);
  return lines.join('\n');
}

function legend(names: string[]): string {
  return names
    .map((name, index) => {
      const x = MARGIN.left + 12 + index * 170;
      return (
        `<g class="legend"><rect class="series-${index}" x="${x}" y="${MARGIN.top + 2}" width="12" height="4"/>` +
        `<text x="${x + 16}" y="${MARGIN.top + 8}">${escapeHtml(name)}</text></g>`
      );
    })
    .join('\n');
}

/** Averages consecutive points in equal buckets so that at most MAX_POINTS remain. */
function thin(points: Array<[number, number]>): Array<[number, number]> {
  if (points.length <= MAX_POINTS) return points;
  const size = points.length / MAX_POINTS;
  const result: Array<[number, number]> = [];
  for (let bucket = 0; bucket < MAX_POINTS; bucket += 1) {
    const slice = points.slice(Math.floor(bucket * size), Math.floor((bucket + 1) * size));
    const x = slice.reduce((sum, [px]) => sum + px, 0) / slice.length;
    const y = slice.reduce((sum, [, py]) => sum + py, 0) / slice.length;
    result.push([x, y]);
  }
  return result;
}

function isFinitePoint([x, y]: [number, number]): boolean {
  return Number.isFinite(x) && Number.isFinite(y);
}

/** Returns [min, max] of the values, widened when they are all equal so a scale exists. */
function extent(values: number[]): [number, number] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min === max) return [min - 1, max + 1];
  return [min, max];
}

/** About five round tick values between min and max (steps of 1, 2 or 5 times a power of 10). */
function ticks(min: number, max: number): number[] {
  const rough = (max - min) / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? rough;
  const result: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max + step * 1e-9; value += step) {
    result.push(Number(value.toPrecision(12)));
  }
  return result;
}

function label(value: number): string {
  if (Math.abs(value) >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}
