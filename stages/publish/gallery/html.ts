/** Replaces the characters that HTML gives a meaning to, for text and attribute values. */
export function escapeHtml(text: string | number): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Serialises a value as JSON that is safe inside `<script type="application/json">`: `<`, `>`
 * and `&` become \u escapes, so no string in it can close the element.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}

/** Formats a number for a table: fixed decimals, or an em dash for missing values. */
export function formatNumber(value: number | null | undefined, decimals = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(decimals);
}

/**
 * Wraps a page body in a complete HTML document. `root` is the relative path from the page to
 * the gallery's top folder (`''` for the index, `'../../'` for a release page), because the
 * gallery links only relatively so that it works under any bucket prefix.
 */
export function renderDocument(title: string, root: string, body: string, head = ''): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<link rel="stylesheet" href="${escapeHtml(root)}style.css">`,
    // No favicon request: the browser would ask for /favicon.ico, outside the gallery prefix.
    '<link rel="icon" href="data:,">',
    head,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
