import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { BrowserContext, Page, chromium } from 'playwright-core';

/** Debian's Chromium, installed by setup/chromium.sh. */
export const CHROMIUM_PATH = process.env.FASHION_GAN_CHROMIUM ?? '/usr/bin/chromium';

/** Folder for screenshots that tests keep for a person to look at (gitignored). */
export const ARTIFACT_DIR = path.resolve(__dirname, '..', '..', 'test-artifacts');

/**
 * Flags for a headless Chromium that stays off the network: no QUIC, no background update,
 * sync or component traffic, no GPU (none on CI).
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a fresh profile, plus what its pages reported. */
export interface TestBrowser {
  context: BrowserContext;
  /** Console messages of type `error` and uncaught page errors, from every page. */
  errors: string[];
  /** Requests that were aborted because they left the loopback interface. */
  blockedRequests: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh `--user-data-dir` (playwright passes it when it creates
 * a persistent context). Any request to a host other than 127.0.0.1 or localhost is aborted and
 * recorded, so a page that reaches for a CDN fails its test here instead of hanging.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found; run 'bash setup/chromium.sh' first`);
  }
  const profile = mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });

  const errors: string[] = [];
  const blockedRequests: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
    if (loopback || url.protocol === 'data:' || url.protocol === 'blob:') {
      await route.continue();
      return;
    }
    blockedRequests.push(url.href);
    await route.abort('blockedbyclient');
  });

  const watch = (page: Page) => {
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);

  return {
    context,
    errors,
    blockedRequests,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under test-artifacts/ and returns its path. */
export async function keepScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  const file = path.join(ARTIFACT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Returns the `src` of every `<img>` on the page that has not loaded or decoded to zero width,
 * after waiting for pending images to settle.
 */
export async function brokenImages(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const images = Array.from(document.images);
    await Promise.all(
      images.map((image) =>
        image.complete
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              image.addEventListener('load', () => resolve(), { once: true });
              image.addEventListener('error', () => resolve(), { once: true });
            }),
      ),
    );
    return images.filter((image) => image.naturalWidth === 0).map((image) => image.src);
  });
}
