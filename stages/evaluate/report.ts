import { CLASS_NAMES } from '../../lib/constants';
import { COVERAGE_FRACTION } from '../../lib/metrics/scores';
import { EvaluationMetrics, formatAbove } from './evaluate';

/**
 * Formats the metrics as a plain-text table for standard output: the summary rows, then one row
 * per class with the share of samples classified as it and, for a conditional generator, the
 * FID-proxy of the samples requested as it.
 */
export function formatReport(metrics: EvaluationMetrics): string {
  const lines: string[] = [];
  const row = (name: string, value: string) => lines.push(`${name.padEnd(24)}${value}`);

  row('samples', String(metrics.samples));
  row('FID-proxy', metrics.fid.toFixed(2));
  row('FID-proxy floor', `${metrics.fidFloor.toFixed(2)} (training vs test images)`);
  row('IS-style score', `${metrics.inceptionScore.toFixed(2)} (1 to ${CLASS_NAMES.length})`);
  row(
    'classes covered',
    `${metrics.classesCovered}/${CLASS_NAMES.length} ` +
      `(at least ${COVERAGE_FRACTION} of a uniform share)`,
  );
  if (metrics.conditionalAgreement !== null) {
    row('conditional agreement', `${(metrics.conditionalAgreement * 100).toFixed(1)}%`);
  }
  row(
    'classifier',
    `${metrics.classifier.key} (test accuracy ${(metrics.classifier.testAccuracy * 100).toFixed(1)}%)`,
  );
  row('quality gate', gateText(metrics));

  lines.push('');
  // The share counts what the classifier saw in the samples, while the per-class FID-proxy
  // scores the samples requested as that class, so the two columns can disagree.
  lines.push(
    `${'class'.padEnd(14)}${'classified as'.padStart(15)}${'FID-proxy when requested'.padStart(26)}`,
  );
  CLASS_NAMES.forEach((name, label) => {
    const share = (metrics.classHistogram[label] / Math.max(1, metrics.samples)) * 100;
    const fid = metrics.perClassFid ? metrics.perClassFid[label].toFixed(2) : '-';
    lines.push(`${name.padEnd(14)}${`${share.toFixed(1)}%`.padStart(15)}${fid.padStart(26)}`);
  });
  return `${lines.join('\n')}\n`;
}

function gateText(metrics: EvaluationMetrics): string {
  if (metrics.gate.maxFid === null) return 'none (no --max-fid)';
  const verdict = metrics.gate.passed ? 'passed' : 'FAILED';
  const fid = metrics.gate.passed
    ? metrics.fid.toFixed(2)
    : formatAbove(metrics.fid, metrics.gate.maxFid);
  return `${verdict} (FID-proxy ${fid}, max ${metrics.gate.maxFid})`;
}
