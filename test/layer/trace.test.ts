// The vkalloc layer on real programs and real drivers: vulkaninfo (Debian's vulkan-tools)
// traced end to end with `vkalloc trace`, and a C program (test/fixtures/layer/compute.c)
// run with NULL allocators and with its own counting allocator, alone and next to the
// Khronos validation layer (above and below).
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { layerEnv, runProgram, runTraced } from '../../lib/layer/run';
import { readStreamFile } from '../../lib/trace/stream-format';
import { loadTrace } from '../../lib/trace/trace';
import { DRIVERS, describeOnDrivers } from '../helpers/drivers';
import { cli, driverEnv, fixture, SHADER, tmpDir } from './helpers';

const tmp = tmpDir('layer-trace');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const VULKANINFO = '/usr/bin/vulkaninfo';
const vulkaninfoTraces: Record<string, string> = {};

interface Counts { allocations: number; reallocations: number; frees: number; internal: number; ok: boolean }

describeOnDrivers('vkalloc trace', (d) => {
  test('vulkaninfo --summary, end to end: instance allocations in vkCreateInstance, nothing live at exit, the report', async () => {
    if (!fs.existsSync(VULKANINFO)) throw new Error(`${VULKANINFO} is missing: apt-get install vulkan-tools (node scripts/setup.js does)`);
    const out = path.join(tmp, `vulkaninfo-${d.driver}.txt`);
    const html = path.join(tmp, `vulkaninfo-${d.driver}.html`);
    // exec: the traced process is the shell's pid, now running vulkaninfo.
    const r = await cli(['trace', '--out', out, '--report', html, '--driver', d.driver, '--', 'sh', '-c', `exec ${VULKANINFO} --summary >/dev/null 2>&1`]);
    expect(r.status).toBe(0);
    vulkaninfoTraces[d.driver] = out;

    const stream = readStreamFile(out);
    expect(stream.exit).not.toBeNull();
    expect(stream.exit!.liveCount).toBe(0);
    expect(stream.truncated).toBe(false);
    const trace = loadTrace(out);  // the streamed format through the ordinary loader
    expect(trace.meta.program).toBe('vulkaninfo');
    expect(String(trace.meta.device)).toContain(d.description.split(',')[0]);
    expect(trace.meta.driver).toBeTruthy();

    const summary = trace.summary();
    const create = summary.commands.find((c) => c.command === 'vkCreateInstance');
    expect(create?.allocations).toBeGreaterThan(0);
    const instance = trace.data.objects.find((o) => o.type === 'Instance');
    expect(instance?.createdBy).toBe('vkCreateInstance');
    expect(instance?.destroyedAt).not.toBeNull();
    const inCreate = trace.blocks().filter((b) => b.command === 'vkCreateInstance');
    expect(inCreate.length).toBe(create!.allocations);
    expect(inCreate.every((b) => b.object === instance!.id)).toBe(true);
    expect(summary.liveCount).toBe(0);
    expect(trace.leaks()).toEqual([]);
    expect(trace.stillLive()).toEqual([]);

    expect(r.err).toContain('vkalloc trace: vulkaninfo exited with status 0.');
    expect(r.err).toContain('Live at exit: 0 blocks');
    expect(r.err).toMatch(/vkCreateInstance\s+1\s+\d+/);
    const page = fs.readFileSync(html, 'utf8');
    for (const id of ['commands', 'scopes', 'objects', 'leaks', 'still-live']) expect(page).toContain(`<section id="${id}"`);
    expect(page).toContain('vkalloc trace: vulkaninfo');
  });

  test('the compute program with NULL allocators: its objects and allocations, nothing live at exit', async () => {
    const traced = await runTraced([fixture('compute'), 'null', SHADER], { driver: d.driver });
    try {
      expect(traced.run.status).toBe(0);
      expect(JSON.parse(traced.run.stdout).ok).toBe(true);
      const stream = traced.trace!;
      expect(stream.exit!.liveCount).toBe(0);
      expect(stream.appCalls).toEqual({ allocate: 0, reallocate: 0, free: 0, internal: 0 });
      const trace = loadTrace(traced.tracePath!);
      const types = trace.data.objects.slice(1).map((o) => o.type);
      for (const t of ['Instance', 'Device', 'Buffer', 'DeviceMemory', 'Pipeline', 'PipelineLayout', 'ShaderModule', 'Fence', 'CommandPool']) {
        expect(types).toContain(t);
      }
      expect(trace.data.objects.slice(1).every((o) => o.destroyedAt !== null)).toBe(true);
      expect(trace.summary().commands.find((c) => c.command === 'vkCreateDevice')?.allocations).toBeGreaterThan(0);
      // lavapipe (Mesa 22.3) frees some pipelines' and pipeline layouts' blocks later than their
      // destroy (its queue thread drops the last reference, or vkDestroyDevice does): they
      // outlive their object, as the analysis says, but are all freed.
      for (const leak of trace.leaks()) {
        expect(leak.rule).toBe('object-destroyed');
        expect(leak.freedAt).not.toBeNull();
      }
      expect(trace.stillLive()).toEqual([]);
    } finally {
      fs.rmSync(traced.dir, { recursive: true, force: true });
    }
  });

  test('the compute program with its own counting allocator: its counts are unchanged and equal the trace', async () => {
    const plain = await runProgram([fixture('compute'), 'counting', SHADER], { env: driverEnv(d.driver) });
    expect(plain.status).toBe(0);
    const alone = JSON.parse(plain.stdout) as Counts;
    expect(alone.ok).toBe(true);
    expect(alone.allocations).toBeGreaterThan(0);

    const traced = await runTraced([fixture('compute'), 'counting', SHADER], { driver: d.driver });
    try {
      expect(traced.run.status).toBe(0);
      const layered = JSON.parse(traced.run.stdout) as Counts;
      expect(layered).toEqual(alone);
      const app = traced.trace!.appCalls;
      expect(app).toEqual({ allocate: layered.allocations, reallocate: layered.reallocations, free: layered.frees, internal: layered.internal });
      expect(traced.trace!.exit!.liveCount).toBe(0);
    } finally {
      fs.rmSync(traced.dir, { recursive: true, force: true });
    }
  });

  test.each(['first', 'last'] as const)('next to VK_LAYER_KHRONOS_validation (vkalloc %s): same counts, no validation errors', async (position) => {
    const plain = await runProgram([fixture('compute'), 'counting', SHADER], { env: driverEnv(d.driver) });
    const alone = JSON.parse(plain.stdout) as Counts;
    const dir = tmpDir('layer-validation');
    try {
      const env = layerEnv({ traceFile: path.join(dir, 'trace.%p.txt'), position },
        { ...driverEnv(d.driver), VK_INSTANCE_LAYERS: 'VK_LAYER_KHRONOS_validation' });
      expect(env.VK_INSTANCE_LAYERS).toBe(position === 'first' ? 'VK_LAYER_VKALLOC_trace:VK_LAYER_KHRONOS_validation'
        : 'VK_LAYER_KHRONOS_validation:VK_LAYER_VKALLOC_trace');
      const r = await runProgram([fixture('compute'), 'counting', SHADER], { env });
      expect(r.stderr).not.toMatch(/VUID|Validation Error/);
      expect(r.status).toBe(0);
      const counts = JSON.parse(r.stdout) as Counts;
      expect(counts.ok).toBe(true);
      const [file] = fs.readdirSync(dir);
      const stream = readStreamFile(path.join(dir, file));
      expect(stream.exit!.liveCount).toBe(0);
      if (position === 'last') {
        // Below validation the layer sees the driver only: the app's allocator, exactly as alone.
        expect(counts).toEqual(alone);
        expect(stream.appCalls.allocate).toBe(counts.allocations);
      } else {
        // Above it, the validation layer's own allocations go through the app's allocator and the layer too.
        expect(counts.allocations).toBeGreaterThanOrEqual(alone.allocations);
        expect(stream.appCalls.allocate).toBe(counts.allocations);
      }
      expect(stream.appCalls.free).toBe(counts.frees);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vkalloc trace, processes', () => {
  const driver = DRIVERS[0].driver;

  test('the exit status and a killing signal pass through; no Vulkan means no trace', async () => {
    const out = path.join(tmp, 'none.txt');
    const exit3 = await cli(['trace', '--out', out, '--', 'sh', '-c', 'exit 3']);
    expect(exit3.status).toBe(3);
    expect(exit3.err).toContain('without creating a Vulkan instance through the layer: no trace');
    expect(fs.existsSync(out)).toBe(false);
    const killed = await cli(['trace', '--out', out, '--', 'sh', '-c', 'kill -SEGV $$']);
    expect(killed.status).toBe(128 + 11);
    expect(killed.err).toContain('was killed by SIGSEGV');
  });

  test('children that use Vulkan write their own traces (%p)', async () => {
    const traced = await runTraced(['sh', '-c', `${fixture('compute')} null ${SHADER} >/dev/null && ${fixture('compute')} null ${SHADER} >/dev/null`], { driver });
    try {
      expect(traced.run.status).toBe(0);
      expect(traced.trace).not.toBeNull();
      expect(traced.children).toHaveLength(1);
      const child = readStreamFile(traced.children[0].path);
      expect(child.meta.pid).toEqual([String(traced.children[0].pid)]);
      expect(traced.trace!.meta.pid).not.toEqual(child.meta.pid);
      for (const s of [traced.trace!, child]) expect(s.exit!.liveCount).toBe(0);
    } finally {
      fs.rmSync(traced.dir, { recursive: true, force: true });
    }
  });

  test('a program killed mid-run leaves a readable trace up to its last callback', async () => {
    // hang mode with the fence's allocation refused: it retries forever until killed.
    const traced = await runTraced([fixture('faulty'), 'hang'], { driver, failOnly: ['vkCreateFence'], failFrom: 0, traceLimit: 1 << 20 }, { timeoutMs: 1000 });
    try {
      expect(traced.run.timedOut).toBe(true);
      expect(traced.run.signal).toBe('SIGKILL');
      const stream = traced.trace!;
      expect(stream.exit).toBeNull();
      expect(stream.refusals.length).toBeGreaterThan(0);
      expect(stream.refusals.every((x) => x.command === 'vkCreateFence')).toBe(true);
      const trace = loadTrace(traced.tracePath!);
      expect(trace.meta.ended).toMatch(/without a normal exit/);
      expect(trace.summary().commands.find((c) => c.command === 'vkCreateDevice')?.allocations).toBeGreaterThan(0);
    } finally {
      fs.rmSync(traced.dir, { recursive: true, force: true });
    }
  });
});

describe('vkalloc diff', () => {
  test('vulkaninfo on the drivers, per command and per scope', async () => {
    const files = DRIVERS.map((d) => vulkaninfoTraces[d.driver]).filter(Boolean);
    expect(files.length).toBeGreaterThan(0);
    const [a, b] = [files[0], files[files.length - 1]];
    const r = await cli(['diff', a, b, '--json']);
    expect(r.status).toBe(0);
    const diff = JSON.parse(r.out);
    const sa = loadTrace(a).summary(), sb = loadTrace(b).summary();
    expect(diff.totals).toEqual({ a: { allocations: sa.calls.allocate, bytes: sa.bytesAllocated, peak: sa.peakLiveBytes },
      b: { allocations: sb.calls.allocate, bytes: sb.bytesAllocated, peak: sb.peakLiveBytes } });
    const create = diff.commands.find((c: { command: string }) => c.command === 'vkCreateInstance');
    expect(create.a.allocations).toBe(sa.commands.find((c) => c.command === 'vkCreateInstance')!.allocations);
    expect(create.b.allocations).toBe(sb.commands.find((c) => c.command === 'vkCreateInstance')!.allocations);
    expect(diff.scopes.map((s: { scope: string }) => s.scope)).toEqual(['command', 'object', 'cache', 'device', 'instance']);
    const text = await cli(['diff', a, b]);
    expect(text.out).toMatch(/Per Vulkan command[\s\S]*vkCreateInstance[\s\S]*Per scope/);
  });

  test('a missing file is an error naming it', async () => {
    const r = await cli(['diff', path.join(tmp, 'nope.txt'), path.join(tmp, 'nope2.txt')]);
    expect(r.status).toBe(1);
    expect(r.err).toContain('nope.txt: no such file');
  });
});

// For docs/tracing-any-program.md: the vulkaninfo report, rendered.
describe('the vulkaninfo report in headless Chromium', () => {
  test('loads offline without errors and draws its chart; screenshot test-artifacts/layer-vulkaninfo.png', async () => {
    const file = path.join(tmp, `vulkaninfo-${DRIVERS[0].driver}.html`);
    expect(fs.existsSync(file)).toBe(true);
    const { chromium } = await import('playwright-core');
    const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      await page.waitForSelector('html[data-chart="drawn"]', { timeout: 15000 });
      expect(await page.locator('#commands').textContent()).toContain('vkCreateInstance');
      const artifacts = path.join(__dirname, '..', '..', 'test-artifacts');
      fs.mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'layer-vulkaninfo.png'), fullPage: false });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
