// Fault injection: FailingPolicy's plans, and sweep() over real lavapipe objects,
// in child processes.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AlignedHeaderPolicy } from '../../lib/allocator/aligned-header-policy';
import native from '../../lib/native/binding';
import { FailingPolicy } from '../../lib/fault/failing-policy';
import { bridgeOf, HostAllocator } from '../../lib/allocator/host-allocator';
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

test('a crash in the child is a finding at its point; the sweep goes on', async () => {
  const mark = path.join(os.tmpdir(), `vkalloc-sweep-crash-${process.pid}`);  // see the fixture
  fs.rmSync(mark, { force: true });
  try {
    const report = await sweep({ script: path.join(__dirname, '..', 'fixtures', 'sweep-crash.js') }, { maxPoints: 10 });
    expect(report.points[2]).toMatchObject({ point: 2, result: 'crash' });
    expect(report.totals.crashes).toBe(1);
    expect(report.totals.succeededAt).not.toBeNull();
  } finally {
    fs.rmSync(mark, { force: true });
  }
});

test('bad sweep input is refused', async () => {
  await expect(sweep('pipeline-cache' as never)).rejects.toThrow(/Expected one of 'instance', .* for target but received "pipeline-cache"/);
  await expect(sweep('buffer', { maxPoints: -1 })).rejects.toThrow('Expected a positive integer for maxPoints but received -1');
});
