import { Metrics } from '../inputs';
import { LossRecord, renderTrainingCurves } from './curves';
import { escapeHtml, formatNumber, jsonForScript, renderDocument } from './html';
import { renderMetrics } from './metrics-table';

/** A category column: label as the model's input, slug for file names, name for people. */
export interface CategoryInfo {
  label: number;
  slug: string;
  name: string;
}

/**
 * Settings that the live section's script (assets/live.js) reads from the page. The pixel range and the
 * image size come from lib/constants.ts, so the browser converts outputs as training did.
 */
export interface LiveConfig {
  /** Relative URL of the tfjs layers model.json. */
  modelUrl: string;
  latentSize: number;
  conditional: boolean;
  imageSize: number;
  /** [min, max] of the generator's output, mapped to bytes 0..255. */
  pixelRange: [number, number];
  /** Nearest-neighbour upscaling of each image on the canvas. */
  scale: number;
  /** Rows (latent styles) drawn per click. */
  styles: number;
  /** Every category of the generator, in label order. */
  categories: CategoryInfo[];
  /** Labels checked when the page opens. */
  selected: number[];
}

/** Everything a release page shows; hrefs are relative to the page's folder. */
export interface ReleasePageData {
  releaseId: string;
  runId: string;
  createdAt: string;
  datasetHash: string;
  metrics: Metrics | null;
  /** Columns of the lines table. */
  categories: CategoryInfo[];
  /** Image hrefs of the lines, `[style][category]`. */
  lineCells: string[][];
  /** The whole lines table as one PNG. */
  linesGrid: string;
  /** A latent walk between the first two styles, rows categories, columns frames. */
  walk: string | null;
  categoryGrids: Array<{ category: CategoryInfo; href: string }>;
  samples: Array<{ epoch: number; href: string }>;
  losses: LossRecord[];
  configuration: unknown;
  live: LiveConfig;
}

/** Renders a release's page: metrics, lines, live drawing, grids, curves and sample time line. */
export function renderReleasePage(data: ReleasePageData): string {
  const body = [
    '<header>',
    '<p class="crumbs"><a href="../../index.html">All releases</a></p>',
    `<h1>Release <code>${escapeHtml(data.releaseId)}</code></h1>`,
    `<p class="facts">Run <code>${escapeHtml(data.runId)}</code> · created ` +
      `<time datetime="${escapeHtml(data.createdAt)}">${escapeHtml(data.createdAt)}</time> · ` +
      `data set <code>${escapeHtml(data.datasetHash.slice(0, 12))}</code> · ` +
      `FID ${escapeHtml(formatNumber(data.metrics?.fid))}</p>`,
    '</header>',
    '<main>',
    section('metrics-section', 'Metrics', renderMetrics(data.metrics)),
    section('lines', 'Fashion lines', renderLines(data)),
    section('live', 'Draw new lines in the browser', renderLive(data.live)),
    section('categories', 'By category', renderCategoryGrids(data)),
    section('curves', 'Training curves', renderCurves(data.losses)),
    section('timeline', 'Samples by epoch', renderTimeline(data.samples)),
    section('configuration', 'Configuration', renderConfiguration(data.configuration)),
    '</main>',
  ].join('\n');
  return renderDocument(`fashion-gan release ${data.releaseId}`, '../../', body);
}

function section(id: string, title: string, content: string): string {
  return `<section id="${escapeHtml(id)}">\n<h2>${escapeHtml(title)}</h2>\n${content}\n</section>`;
}

function renderLines(data: ReleasePageData): string {
  const header = data.categories
    .map((category) => `<th scope="col">${escapeHtml(category.name)}</th>`)
    .join('');
  const rows = data.lineCells.map((cells, style) => {
    const images = cells.map((href, column) => {
      const alt = `style ${style + 1}, ${data.categories[column].name}`;
      return `<td><img src="${escapeHtml(href)}" alt="${escapeHtml(alt)}" class="tile"></td>`;
    });
    return `<tr><th scope="row">${style + 1}</th>${images.join('')}</tr>`;
  });
  const walk = data.walk
    ? `<h3>Walk from style 1 to style 2</h3>\n` +
      `<img src="${escapeHtml(data.walk)}" alt="latent walk between styles 1 and 2" class="grid">`
    : '';
  return [
    '<p>Each row is one latent style vector rendered in every category by the conditional ' +
      'generator.</p>',
    '<div class="scroll"><table class="lines">',
    `<thead><tr><th scope="col">Style</th>${header}</tr></thead>`,
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table></div>',
    `<p><a href="${escapeHtml(data.linesGrid)}">Whole table as one PNG</a></p>`,
    walk,
  ].join('\n');
}

function renderLive(live: LiveConfig): string {
  const boxes = live.categories.map((category) => {
    const checked = live.selected.includes(category.label) ? ' checked' : '';
    return (
      `<label><input type="checkbox" name="category" value="${category.label}"${checked}> ` +
      `${escapeHtml(category.name)}</label>`
    );
  });
  return [
    '<p>The generator of this release runs here with TensorFlow.js: pick categories and draw ' +
      'new styles.</p>',
    `<fieldset id="live-categories"><legend>Categories</legend>${boxes.join('\n')}</fieldset>`,
    '<p><button id="live-draw" type="button" disabled>Draw a new line</button> ' +
      '<span id="live-status" role="status">Loading the generator…</span></p>',
    '<canvas id="live-canvas" width="0" height="0"></canvas>',
    `<script type="application/json" id="live-config">${jsonForScript(live)}</script>`,
    '<script src="tf.min.js"></script>',
    '<script src="live.js"></script>',
  ].join('\n');
}

function renderCategoryGrids(data: ReleasePageData): string {
  if (data.categoryGrids.length === 0) return '<p class="empty">No category grids.</p>';
  const figures = data.categoryGrids.map(
    ({ category, href }) =>
      `<figure><img src="${escapeHtml(href)}" alt="${escapeHtml(category.name)} samples" ` +
      `class="grid"><figcaption>${escapeHtml(category.name)}</figcaption></figure>`,
  );
  return `<div class="figures">\n${figures.join('\n')}\n</div>`;
}

function renderCurves(losses: LossRecord[]): string {
  if (losses.length === 0) return '<p class="empty">The run logged no losses.</p>';
  return renderTrainingCurves(losses);
}

function renderTimeline(samples: Array<{ epoch: number; href: string }>): string {
  if (samples.length === 0) return '<p class="empty">The run saved no sample grids.</p>';
  const figures = samples.map(
    ({ epoch, href }) =>
      `<figure><img src="${escapeHtml(href)}" alt="samples after epoch ${epoch}" ` +
      `class="grid"><figcaption>epoch ${epoch}</figcaption></figure>`,
  );
  return `<div class="timeline">\n${figures.join('\n')}\n</div>`;
}

function renderConfiguration(configuration: unknown): string {
  if (configuration === null || configuration === undefined) {
    return '<p class="empty">The run saved no configuration.</p>';
  }
  const text = JSON.stringify(configuration, null, 2);
  return `<details><summary>config.json</summary><pre>${escapeHtml(text)}</pre></details>`;
}
