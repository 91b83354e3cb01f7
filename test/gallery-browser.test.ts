import { strict as assert } from 'assert';
import { mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { Page } from 'playwright-core';

import { createLogger, setLogOutput } from '../lib/log/logger';
import { FileStore } from '../lib/storage/file-store';
import { ArtifactStore, StoreError } from '../lib/storage/store';
import { loadBackend } from '../lib/tensorflow/backend';
import { GalleryServer, startGalleryServer } from '../stages/publish/gallery-server';
import { PublishResult, publish } from '../stages/publish/publish';
import { TestBrowser, brokenImages, keepScreenshot, launchBrowser } from './support/browser';
import { FakeRun, writeFakeRun } from './support/publish-fixture';

const logger = createLogger('publish');
const STYLES = 3;

/** Returns a checksum of the live canvas's pixels and how many distinct gray levels it has. */
async function canvasSummary(page: Page): Promise<{ checksum: number; levels: number }> {
  return page.evaluate(() => {
    const canvas = document.getElementById('live-canvas') as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let checksum = 0;
    const levels = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      checksum = (checksum * 31 + data[i]) >>> 0;
      levels.add(data[i]);
    }
    return { checksum, levels: levels.size };
  });
}

async function waitForDraws(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (expected) => document.getElementById('live-canvas')?.dataset.draws === String(expected),
    count,
    { timeout: 60_000 },
  );
}

describe('gallery in Chromium', function () {
  this.timeout(180_000);

  let root: string;
  let store: FileStore;
  let server: GalleryServer;
  let browser: TestBrowser;
  let first: PublishResult;
  let restoreLog: (line: string) => void;

  const publishRun = (target: ArtifactStore, run: FakeRun, day: string) =>
    publish(
      target,
      {
        model: run.trainOut,
        metrics: run.metricsKey,
        releases: 'releases',
        gallery: 'gallery',
        lines: STYLES,
        seed: 3,
        now: () => new Date(`${day}T12:00:00Z`),
      },
      logger,
    );

  before(async () => {
    loadBackend({ device: 'cpu' });
    restoreLog = setLogOutput(() => undefined);
    root = mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-gallery-'));
    store = new FileStore(root);
    first = await publishRun(store, await writeFakeRun(store, { runId: 'run-first', seed: 1 }), '2025-01-01');
    server = await startGalleryServer(store, { port: 0, logger });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    setLogOutput(restoreLog);
    rmSync(root, { recursive: true, force: true });
  });

  afterEach(() => {
    assert.deepEqual(browser.errors.splice(0), [], 'console errors');
    assert.deepEqual(browser.blockedRequests.splice(0), [], 'requests that left loopback');
  });

  it('lists the release on the index', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}index.html`);

    const names = await page.locator('li.release .name').allTextContents();
    assert.deepEqual(names, [first.releaseId]);
    assert.deepEqual(await brokenImages(page), []);
    await keepScreenshot(page, 'gallery-index');
    await page.close();
  });

  it('shows lines and metrics on the release page', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}index.html`);
    await page.click('li.release a');
    await page.waitForURL(/releases\/.+\/index\.html$/);

    assert.equal(await page.locator('table.lines tbody tr').count(), STYLES);
    assert.equal(await page.locator('table.lines tbody img').count(), STYLES * 10);
    const metrics = await page.locator('#metrics').innerText();
    assert.match(metrics, /FID \(lower is better\)\s+42\.50/);
    assert.match(metrics, /Quality gate\s+passed/);
    assert.equal(await page.locator('svg.chart').count(), 2);
    assert.equal(await page.locator('#timeline img').count(), 2);
    assert.deepEqual(await brokenImages(page), []);
    await waitForDraws(page, 1);
    await keepScreenshot(page, 'gallery-release');
    await page.close();
  });

  it('draws a new line with the button', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}releases/${first.releaseId}/index.html`);
    await waitForDraws(page, 1);
    const before = await canvasSummary(page);

    await page.click('#live-draw');
    await waitForDraws(page, 2);
    const after = await canvasSummary(page);

    assert.ok(before.levels > 10, `first drawing has only ${before.levels} gray levels`);
    assert.notEqual(after.checksum, before.checksum, 'the canvas did not change');
    assert.match(await page.locator('#live-status').innerText(), /^Drew 4 styles × 10 categories/);
    await page.close();
  });

  it('draws only the checked categories', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}releases/${first.releaseId}/index.html`);
    await waitForDraws(page, 1);
    const widthAll = await page.locator('#live-canvas').evaluate((canvas) => (canvas as HTMLCanvasElement).width);

    for (const label of [0, 1, 2, 5, 6, 8, 9]) {
      await page.uncheck(`#live-categories input[value="${label}"]`);
    }
    await page.click('#live-draw');
    await waitForDraws(page, 2);
    const widthThree = await page.locator('#live-canvas').evaluate((canvas) => (canvas as HTMLCanvasElement).width);

    assert.equal(widthAll, 10 * (28 * 4 + 2) + 2);
    assert.equal(widthThree, 3 * (28 * 4 + 2) + 2);
    await page.close();
  });

  it('keeps the old release browsable after a failed publish', async () => {
    const run = await writeFakeRun(store, { runId: 'run-second', seed: 2 });
    const failing = Object.assign(Object.create(store) as ArtifactStore, {
      put: async (key: string, body: Buffer | string) => {
        if (/\/categories\/coat\.png$/.test(key)) {
          throw new StoreError('access-denied', `permission denied on '${key}'`);
        }
        return store.put(key, body);
      },
    });
    await assert.rejects(publishRun(failing, run, '2025-02-01'), /permission denied/);

    const page = await browser.newPage();
    await page.goto(`${server.url}index.html`);
    assert.deepEqual(await page.locator('li.release .name').allTextContents(), [first.releaseId]);
    await page.click('li.release a');
    await page.waitForURL(/releases\/.+\/index\.html$/);
    assert.deepEqual(await brokenImages(page), []);
    await waitForDraws(page, 1);

    const second = await publishRun(store, run, '2025-02-01');
    await page.goto(`${server.url}index.html`);
    const names = await page.locator('li.release .name').allTextContents();
    assert.deepEqual(names, [second.releaseId, first.releaseId]);
    assert.deepEqual(await brokenImages(page), []);
    await keepScreenshot(page, 'gallery-index-two-releases');
    await page.close();
  });
});
