import { escapeHtml, formatNumber, renderDocument } from './html';

/** One release as the index lists it. */
export interface IndexEntry {
  releaseId: string;
  runId: string;
  /** ISO 8601 creation time; the index sorts on it, newest first. */
  createdAt: string;
  fid: number | null;
  inceptionScore: number | null;
  gatePassed: boolean | null;
  /** Relative href of the release page, from the index. */
  page: string;
  /** Relative href of a preview image (the lines grid), from the index. */
  preview: string;
}

/** Renders the gallery's index: every release, newest first, with its headline numbers. */
export function renderIndexPage(entries: IndexEntry[]): string {
  const sorted = [...entries].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || a.releaseId.localeCompare(b.releaseId),
  );
  const items = sorted.map((entry) => {
    let gate = '—';
    if (entry.gatePassed !== null) gate = entry.gatePassed ? 'passed' : 'failed';
    return [
      '<li class="release">',
      `<a href="${escapeHtml(entry.page)}">`,
      `<img src="${escapeHtml(entry.preview)}" alt="lines of ${escapeHtml(entry.releaseId)}" ` +
        'class="preview">',
      `<span class="name">${escapeHtml(entry.releaseId)}</span></a>`,
      `<span class="facts">run <code>${escapeHtml(entry.runId)}</code> · ` +
        `<time datetime="${escapeHtml(entry.createdAt)}">${escapeHtml(entry.createdAt)}</time> · ` +
        `FID ${escapeHtml(formatNumber(entry.fid))} · ` +
        `IS ${escapeHtml(formatNumber(entry.inceptionScore))} · gate ${escapeHtml(gate)}</span>`,
      '</li>',
    ].join('\n');
  });
  const list =
    items.length > 0
      ? `<ol class="releases">\n${items.join('\n')}\n</ol>`
      : '<p class="empty">No releases yet.</p>';
  const body = [
    '<header><h1>fashion-gan releases</h1>',
    '<p>Fashion-MNIST designs from class-conditional GANs, newest release first.</p></header>',
    `<main>\n${list}\n</main>`,
  ].join('\n');
  return renderDocument('fashion-gan releases', '', body);
}
