// The HTML report: one self-contained file, opened in real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core): it loads offline without console errors,
// the chart is drawn, and a screenshot lands in test-artifacts/.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { BrowserContext, Page } from 'playwright-core';
import { findLavapipe } from '../../lib/vulkan/driver';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance } from '../../lib/vulkan/instance';
import { chartData, htmlReport, writeHtmlReport } from '../../lib/report/html-report';
import { Trace } from '../../lib/trace/trace';
import { sampleAppTrace, TraceBuilder } from '../helpers/synthetic-trace';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-html-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the HTML file', () => {
  const html = htmlReport(new Trace(sampleAppTrace().data));

  test('is self-contained: uPlot and the data inlined, a policy that forbids every fetch', () => {
    expect(html).toContain('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'');
    expect(html).toContain('var uPlot=');
    expect(html).toContain('.uplot');
    expect(html).toContain('id="vkalloc-chart-data"');
    expect(html).not.toMatch(/\s(src|href)="(?!data:)/);
    expect(html).not.toMatch(/https?:\/\/(?!github\.com\/leeoniya)/);  // uPlot's own banner comment is the only URL
  });

  test('has the summary tables and the leak list', () => {
    for (const id of ['commands', 'scopes', 'objects', 'leaks', 'still-live']) expect(html).toContain(`<section id="${id}"`);
    expect(html).toContain('<section id="leaks" class="bad">');
    expect(html).toContain('outlived Buffer #4');
    expect(html).toContain('at leaky (app.js:10:5)');
    expect(html).toContain('2 callbacks from 2 driver threads');
  });

  test('escapes what the trace says, in text and in the embedded data', () => {
    const b = new TraceBuilder({ driver: '<b>"x"</b>' });
    b.begin('</script><script>alert(1)</script>');
    b.allocate(8, 'command');
    b.end();
    const page = htmlReport(new Trace(b.build()));
    expect(page).not.toContain('<b>"x"</b>');
    expect(page).not.toContain('</script><script>alert(1)');
    expect(page).toContain('&#60;b&#62;&#34;x&#34;&#60;/b&#62;');
  });

  test('a long series is downsampled and keeps its peak', () => {
    const b = new TraceBuilder();
    b.begin('vkCreateInstance');
    b.create('Instance');
    const held: number[] = [];
    for (let i = 0; i < 6000; i++) {
      held.push(b.allocate(64 + (i % 7) * 16, i % 3 ? 'command' : 'instance'));
      if (held.length > 50) b.free(held.shift()!);
    }
    for (const a of held) b.free(a);
    b.end();
    const trace = new Trace(b.build());
    const chart = chartData(trace, 1000);
    expect(chart.downsampled).toBe(true);
    expect(chart.x.length).toBeLessThanOrEqual(1001);
    expect(Math.max(...chart.total)).toBe(trace.summary().peakLiveBytes);
    expect(chart.x.every((x, i) => i === 0 || x >= chart.x[i - 1])).toBe(true);
  });
});

// ---- in Chromium ----

interface PageCheck {
  errors: string[];
  requests: string[];
}

async function openReport(file: string): Promise<{ context: BrowserContext; page: Page; check: PageCheck }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with apt-get install -y chromium (node scripts/setup.js --for-tests does)`);
  }
  const { chromium } = await import('playwright-core');
  // A fresh profile every time: nothing cached or remembered from another run.
  const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  const check: PageCheck = { errors: [], requests: [] };
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') check.errors.push(`console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => check.errors.push(`page error: ${e.message}`));
  page.on('request', (r) => check.requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForSelector('html[data-chart="drawn"]', { timeout: 15000 });
  return { context, page, check };
}

/** The chart's canvas: its CSS size, and how many of its pixels were painted (run in the page: no DOM types here). */
const CANVAS_FACTS = `(() => {
  const canvas = document.querySelector('#chart canvas');
  if (!canvas) return null;
  const box = canvas.getBoundingClientRect();
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return { width: box.width, height: box.height, painted, total: pixels.length / 4 };
})()`;

async function canvasFacts(page: Page) {
  return page.evaluate(CANVAS_FACTS) as Promise<{ width: number; height: number; painted: number; total: number } | null>;
}

async function checkInBrowser(file: string, screenshot: string): Promise<void> {
  const { context, page, check } = await openReport(file);
  try {
    const canvas = await canvasFacts(page);
    expect(canvas).not.toBeNull();
    expect(canvas!.width).toBeGreaterThan(300);
    expect(canvas!.height).toBeGreaterThan(200);
    // Bands, grid, five scope lines and the total: well beyond a few stray pixels.
    expect(canvas!.painted).toBeGreaterThan(canvas!.total / 50);
    expect(await page.locator('.u-legend .u-series').count()).toBe(7);  // time, five scopes, total

    // The page's own script answers the pointer: time and command under it.
    const box = (await page.locator('#chart .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await expect(page.locator('#chart-cursor').textContent()).resolves.toMatch(/^\d+\.\d{3} ms: /);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(check.errors).toEqual([]);
    expect(check.requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:'))).toEqual([]);
  } finally {
    await context.close();
  }
}

describe('the report in headless Chromium', () => {
  test('a synthetic trace: loads offline without errors, draws the chart; screenshot test-artifacts/report.png', async () => {
    const file = path.join(tmp, 'synthetic.html');
    writeHtmlReport(new Trace(sampleAppTrace().data), file);
    await checkInBrowser(file, path.join(ARTIFACTS, 'report.png'));
  });

  const tracing = typeof (HostAllocator.prototype as { startTrace?: unknown }).startTrace === 'function';
  (tracing && findLavapipe() ? test : test.skip)('a lavapipe trace; screenshot test-artifacts/report-lavapipe.png', async () => {
    const allocator = new HostAllocator() as HostAllocator & { startTrace(): void; stopTrace(): Trace };
    allocator.startTrace();
    const instance = createInstance({ driver: 'lavapipe' }, { allocator });
    const gpu = instance.defaultPhysicalDevice();
    const device = gpu.createDevice({ queues: [{ family: Math.max(0, gpu.findQueueFamily('compute')) }] }, { allocator });
    device.createBuffer({ size: 4096, usage: ['storage'] }, { allocator });
    instance.destroy();
    const file = path.join(tmp, 'lavapipe.html');
    writeHtmlReport(allocator.stopTrace(), file);
    await checkInBrowser(file, path.join(ARTIFACTS, 'report-lavapipe.png'));
  });
});
