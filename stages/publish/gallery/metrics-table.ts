import { CLASS_NAMES } from '../../../lib/constants';
import { Metrics } from '../inputs';
import { escapeHtml, formatNumber } from './html';

/**
 * Renders the evaluate stage's metrics: a summary table (FID, Inception Score, coverage, gate)
 * and, when present, a per-class table of FID and sample counts.
 */
export function renderMetrics(metrics: Metrics | null): string {
  if (!metrics) return '<p class="empty">No metrics were published with this release.</p>';

  const gate = metrics.gate;
  const gateText = gate
    ? `${gate.passed ? 'passed' : 'failed'}${gate.maxFid === null ? ' (no limit)' : ` (max FID ${formatNumber(gate.maxFid, 1)})`}`
    : '—';
  const rows: Array<[string, string]> = [
    ['FID (lower is better)', formatNumber(metrics.fid, 2)],
    ['FID floor (test vs train data)', formatNumber(metrics.fidFloor, 2)],
    ['Inception Score (classifier)', formatNumber(metrics.inceptionScore, 2)],
    ['Classes covered', metrics.classesCovered === undefined ? '—' : `${metrics.classesCovered} / ${CLASS_NAMES.length}`],
    ['Conditional agreement', percent(metrics.conditionalAgreement)],
    ['Classifier test accuracy', percent(metrics.classifier?.testAccuracy)],
    ['Samples scored', metrics.samples === undefined ? '—' : String(metrics.samples)],
    ['Quality gate', gateText],
  ];
  const summary = [
    '<table class="metrics" id="metrics">',
    '<tbody>',
    ...rows.map(([name, value]) => `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`),
    '</tbody>',
    '</table>',
  ].join('\n');
  return `${summary}\n${renderPerClass(metrics)}`;
}

function renderPerClass(metrics: Metrics): string {
  const perClassFid = Array.isArray(metrics.perClassFid) ? metrics.perClassFid : null;
  const histogram = Array.isArray(metrics.classHistogram) ? metrics.classHistogram : null;
  if (!perClassFid && !histogram) return '';
  const total = histogram ? histogram.reduce((sum, count) => sum + count, 0) : 0;

  const rows = CLASS_NAMES.map((name, label) => {
    const fid = perClassFid ? formatNumber(perClassFid[label], 1) : '—';
    const share = histogram && total > 0 ? percent(histogram[label] / total) : '—';
    return `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(fid)}</td><td>${escapeHtml(share)}</td></tr>`;
  });
  return [
    '<table class="metrics per-class">',
    '<thead><tr><th scope="col">Class</th><th scope="col">FID</th>' +
      '<th scope="col">Share of samples (classifier)</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
  ].join('\n');
}

function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${(value * 100).toFixed(1)}%`;
}
