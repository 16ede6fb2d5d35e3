// Fault injection: FailingPolicy's plans, and sweep() over real lavapipe objects,
// in child processes.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AlignedHeaderPolicy } from '../../lib/allocator/aligned-header-policy';
import native from '../../lib/native/binding';
import { FailingPolicy } from '../../lib/fault/failing-policy';
import { bridgeOf, HostAllocator, NATIVE_POLICY } from '../../lib/allocator/host-allocator';
import { createInstance } from '../../lib/vulkan/instance';
import { sweep } from '../../lib/fault/sweep';

const d = native.__testDriver;

function outcomes(plan: ConstructorParameters<typeof FailingPolicy>[1], n = 12): string {
  const allocator = new HostAllocator(new FailingPolicy(new AlignedHeaderPolicy(), plan));
  const bridge = bridgeOf(allocator);
  let s = '';
  for (let i = 0; i < n; i++) {
    const p = d.allocate(bridge, 64, 8, 1);
    s += p === 0 ? 'x' : '.';
    if (p) d.free(bridge, p);
  }
  return s;
}

test('plans: nth, from, every, seeded probability, predicate', () => {
  expect(outcomes({ nth: 3 })).toBe('...x........');
  expect(outcomes({ from: 9 })).toBe('.........xxx');
  expect(outcomes({ every: 4 })).toBe('...x...x...x');
  const random = outcomes({ probability: 0.5, seed: 42 }, 40);
  expect(random).toBe(outcomes({ probability: 0.5, seed: 42 }, 40));  // same seed, same failures
  expect(random).toMatch(/x/);
  expect(random).toMatch(/\./);
  const allocator = new HostAllocator(new FailingPolicy(new AlignedHeaderPolicy(), {
    when: (r) => r.scope === 'device' && r.command === 'vkCreateDevice',
  }));
  // (No validation layer even under VKALLOC_TEST_VALIDATION: the loader reports the
  // injected failure as an error message, which is the point here.)
  const instance = createInstance({ driver: 'lavapipe', validation: false });
  expect(() => instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator }))
    .toThrow(expect.objectContaining({ code: 'VK_ERROR_OUT_OF_HOST_MEMORY', command: 'vkCreateDevice' }));
  instance.destroy();
  expect(allocator.stats().liveCount).toBe(0);
  expect(() => new FailingPolicy(new AlignedHeaderPolicy(), { every: 0 })).toThrow('Expected a positive integer for plan.every but received 0');
});

test.each(['device', 'buffer', 'memory', 'fence', 'image', 'command-pool'])('sweep %s on lavapipe: every point a clean out-of-memory until success', async (target) => {
  const report = await sweep(target, { driver: 'lavapipe' });
  console.log(`sweep ${target}: ${JSON.stringify(report.totals)}`);
  expect(report.totals.crashes).toBe(0);
  expect(report.totals.leaky).toBe(0);
  expect(report.totals.otherErrors).toBe(0);
  expect(report.totals.succeededAt).toBe(report.points.length - 1);
  expect(report.totals.cleanOom).toBe(report.points.length - 1);
  expect(report.points.slice(0, -1).every((p) => p.refused > 0)).toBe(true);
}, 60000);

test('sweep instance, first 40 points (the whole sweep is ~1560 points: README has it)', async () => {
  const report = await sweep('instance', { maxPoints: 40 });
  expect(report.points).toHaveLength(40);
  expect(report.totals.cleanOom).toBe(40);
});

// Child k of `jobs` runs points k, k + jobs, …; the report must not depend on how many.
test.each([
  ['instance', 60],
  ['device', 5000],
])('sweep %s (max %d) with jobs: 2 gives the report of jobs: 1, points in order', async (target, maxPoints) => {
  const order: number[] = [];
  const one = await sweep(target, { maxPoints, jobs: 1 });
  const two = await sweep(target, { maxPoints, jobs: 2, onPoint: (p) => order.push(p.point) });
  expect(two).toEqual(one);
  expect(order).toEqual(one.points.map((_, i) => i));
  if (target === 'device') expect(one.totals.succeededAt).toBe(one.points.length - 1);
}, 60000);

test.each([1, 2, 3])('a crash in the child is a finding at its point; the sweep goes on (jobs: %d)', async (jobs) => {
  const report = await sweep({ script: path.join(__dirname, '..', 'fixtures', 'sweep-crash.js') }, { maxPoints: 10, jobs });
  expect(report.points[2]).toMatchObject({ point: 2, result: 'crash' });
  expect(report.points.map((p) => p.point)).toEqual(report.points.map((_, i) => i));
  expect(report.totals.crashes).toBe(1);
  expect(report.totals.succeededAt).not.toBeNull();
}, 60000);

test.each([1, 2])('a hang in the child is a finding at its point: the worker is killed and the sweep goes on (jobs: %d)', async (jobs) => {
  const points: string[] = [];
  const report = await sweep({ script: path.join(__dirname, '..', 'fixtures', 'sweep-hang.js') }, {
    maxPoints: 10, timeout: 3, jobs, onPoint: (p) => points.push(`${p.point}:${p.result}`),
  });
  expect(report.points[2]).toMatchObject({ point: 2, result: 'hang', message: 'no result within 3 s: the worker was killed' });
  expect(report.totals.hangs).toBe(1);
  expect(report.totals.crashes).toBe(0);
  expect(report.totals.succeededAt).not.toBeNull();
  expect(report.points.filter((p) => p.point > 2 && p.result === 'VK_ERROR_OUT_OF_HOST_MEMORY').length).toBeGreaterThan(0);
  expect(points).toEqual(report.points.map((p) => `${p.point}:${p.result}`));
}, 60000);

test('what a target prints on stdout does not disturb the results; a target that cannot load fails the sweep once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-sweep-'));
  try {
    const chatty = path.join(dir, 'chatty.js');
    fs.writeFileSync(chatty, `module.exports = ({ allocator, vkalloc, point }) => {
      console.log('{"point": -1, "result": "success"}', point);
      vkalloc.createInstance({ driver: 'lavapipe' }).physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator }).destroy();
    };`);
    const report = await sweep({ script: chatty }, { maxPoints: 50 });
    expect(report.points.map((p) => p.point)).toEqual(report.points.map((_, i) => i));
    expect(report.totals.succeededAt).toBe(report.points.length - 1);
    expect(report.totals.cleanOom).toBe(report.points.length - 1);
    const empty = path.join(dir, 'empty.js');
    fs.writeFileSync(empty, 'module.exports = 42;');
    await expect(sweep({ script: empty })).rejects.toThrow(`Cannot sweep empty.js: ${empty} exports no function to sweep`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Under `npm run test:asan` freed memory waits in ASan's quarantine (256 MiB): RSS says
// nothing about vkalloc there, and the sweep's blocks now all come from malloc.
const rssMeaningful = process.env.VKALLOC_ASAN_ADDON === undefined;

(rssMeaningful ? test : test.skip)("a sweep's worker runs in flat memory: over 500 points its RSS grows no more than plain vkCreateInstance's", () => {
  // Before: a fresh allocator and chunk pool per point, never finalized in the worker's
  // synchronous loop, grew the worker by ~0.9 MiB a point (~450 MiB over this window).
  const POINTS = 600;
  const WARM = 100;
  const job = { target: 'instance', driver: 'lavapipe', start: 0, end: POINTS, rss: true };
  const worker = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'fault', 'sweep-worker.js'), JSON.stringify(job)],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  expect(worker.status).toBe(0);
  const rss = (worker.output[3] as string).trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.kind === 'point').map((m) => m.rss as number);
  expect(rss).toHaveLength(POINTS);
  // The same number of whole instance creations with the driver's own allocator, in a child of its own.
  const baseline = spawnSync(process.execPath, ['-e', `
    const { createInstance } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'index.js'))});
    const keep = createInstance({ driver: 'lavapipe' });
    const rss = [];
    for (let i = 0; i < ${POINTS}; i++) { createInstance({ driver: 'lavapipe' }).destroy(); rss.push(process.memoryUsage.rss()); }
    keep.destroy();
    console.log(JSON.stringify(rss));`], { encoding: 'utf8' });
  expect(baseline.status).toBe(0);
  const base = JSON.parse(baseline.stdout) as number[];
  const MiB = 2 ** 20;
  const growth = (r: number[]) => (r[POINTS - 1] - r[WARM]) / MiB;
  console.log(`sweep worker RSS ${(rss[WARM] / MiB).toFixed(0)} -> ${(rss[POINTS - 1] / MiB).toFixed(0)} MiB; ` +
    `vkCreateInstance alone ${(base[WARM] / MiB).toFixed(0)} -> ${(base[POINTS - 1] / MiB).toFixed(0)} MiB`);
  // A few MiB of slack for page-granular noise on top of what the driver itself grows by.
  expect(growth(rss)).toBeLessThan(Math.max(0, growth(base)) + 16);
}, 120000);

test("the bridge's own refusals (what a sweep worker uses) count as FailingPolicy's from-plan does, with no policy", () => {
  // The same instance creation, refused from request 40 on: once by a TypeScript
  // FailingPolicy, once by the bridge in C++ with the C++ allocator serving.
  const failing = new FailingPolicy(new AlignedHeaderPolicy(), { from: 40 });
  const viaPolicy = new HostAllocator(failing);
  expect(() => createInstance({ driver: 'lavapipe' }, { allocator: viaPolicy })).toThrow(/VK_ERROR_OUT_OF_HOST_MEMORY/);
  const inCpp = new HostAllocator(NATIVE_POLICY);
  const bridge = bridgeOf(inCpp);
  bridge.failFrom(40);
  expect(() => createInstance({ driver: 'lavapipe' }, { allocator: inCpp })).toThrow(/VK_ERROR_OUT_OF_HOST_MEMORY/);
  const counts = bridge.faultCounts();
  expect(counts).toEqual({ requests: failing.requests, refused: failing.failures });
  expect(counts.refused).toBeGreaterThan(0);
  expect(inCpp.stats().failures).toBe(counts.refused);
  expect(inCpp.stats().liveCount).toBe(0);
  bridge.failFrom(null);  // off again: counts start over, nothing refused
  createInstance({ driver: 'lavapipe' }, { allocator: inCpp }).destroy();
  expect(bridge.faultCounts()).toEqual({ requests: 0, refused: 0 });
});

test('holdLoadedLibrary takes a library only once it is loaded (how a sweep worker keeps the driver)', () => {
  expect(native.holdLoadedLibrary('/nonexistent/libvkalloc-none.so')).toBe(false);
  createInstance({ driver: 'lavapipe', validation: false }).destroy();  // the loader is loaded from now on
  expect(native.holdLoadedLibrary('libvulkan.so.1')).toBe(true);
  expect(() => native.holdLoadedLibrary(3 as never)).toThrow('holdLoadedLibrary needs a library path');
});

test('bad sweep input is refused', async () => {
  await expect(sweep('pipeline-cache' as never)).rejects.toThrow(/Expected one of 'instance', .* for target but received "pipeline-cache"/);
  await expect(sweep('buffer', { maxPoints: -1 })).rejects.toThrow('Expected a positive integer for maxPoints but received -1');
  await expect(sweep('buffer', { timeout: 0 })).rejects.toThrow('Expected a positive number of seconds for timeout but received 0');
  await expect(sweep('buffer', { timeout: '5' as never })).rejects.toThrow(TypeError);
  await expect(sweep('buffer', { jobs: 0 })).rejects.toThrow('Expected a positive integer for jobs but received 0');
  await expect(sweep('buffer', { jobs: 1.5 })).rejects.toThrow('Expected a positive integer for jobs but received 1.5');
});
