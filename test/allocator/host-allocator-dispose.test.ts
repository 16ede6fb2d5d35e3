// HostAllocator.dispose(): the policy's memory back at once, only when nothing uses it;
// and a dropped allocator's chunks freed after a garbage collection, without waiting
// for the event loop.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { AlignedHeaderPolicy } from '../../lib/allocator/aligned-header-policy';
import native from '../../lib/native/binding';
import { CountingPolicy } from '../../lib/allocator/composed-policies';
import { bridgeOf, HostAllocator, NATIVE_POLICY } from '../../lib/allocator/host-allocator';
import { createInstance } from '../../lib/vulkan/instance';
import { RetainingChunkSource } from '../../lib/allocator/native-chunk-source';
import type { AllocationScope } from '../../lib/allocator/policy';
import { DRIVERS } from '../helpers/drivers';

const driver = DRIVERS[0].driver;
const queues = { queues: [{ family: 0 }] };

test('refused while objects created with it live; then gives every chunk back, once', () => {
  const policy = new AlignedHeaderPolicy();
  const allocator = new HostAllocator(policy);
  const instance = createInstance({ driver }, { allocator });
  instance.physicalDevices()[0].createDevice(queues, { allocator });
  expect(() => allocator.dispose()).toThrow(/^Cannot dispose a HostAllocator while objects created with it are alive: .*Instance#\d+.*; destroy them first$/);
  expect(() => allocator.dispose()).toThrow(/Device#\d+/);
  expect(allocator.disposed).toBe(false);
  expect(policy.stats().liveBlocks).toBeGreaterThan(0);  // refused: nothing touched

  instance.destroy();
  const pool = policy.source as RetainingChunkSource;
  const held = policy.stats().bytesHeld + pool.retainedBytes;
  expect(held).toBeGreaterThan(0);
  const chunkBytes = native.chunkStats().bytes;
  allocator.dispose();
  expect(native.chunkStats().bytes).toBe(chunkBytes - held);
  expect(policy.stats()).toMatchObject({ bytesHeld: 0, chunks: 0, liveBlocks: 0 });
  expect(pool.heldBytes).toBe(0);
  expect(allocator.disposed).toBe(true);
  expect(() => allocator.dispose()).not.toThrow();  // idempotent
  expect(() => createInstance({ driver }, { allocator })).toThrow(
    new TypeError('Expected a HostAllocator that is not disposed for createInstance options.allocator but received a disposed one'));
  expect(allocator.stats().liveCount).toBe(0);  // still answers
});

test('Symbol.dispose disposes; wrapping policies pass releaseAll on', () => {
  const inner = new AlignedHeaderPolicy();
  const allocator = new HostAllocator(new CountingPolicy(inner));
  createInstance({ driver }, { allocator }).destroy();
  expect(inner.stats().bytesHeld).toBeGreaterThan(0);
  allocator[Symbol.dispose]();
  expect(allocator.disposed).toBe(true);
  expect(inner.stats().bytesHeld).toBe(0);
});

test('refused while another allocator on the same policy has live objects', () => {
  const policy = new AlignedHeaderPolicy();
  const a = new HostAllocator(policy);
  const b = new HostAllocator(policy);
  const instance = createInstance({ driver }, { allocator: b });
  expect(() => a.dispose()).toThrow(/^Cannot dispose a HostAllocator while objects created with another HostAllocator on the same policy are alive: .*Instance#\d+/);
  expect(a.disposed).toBe(false);
  instance.destroy();
  a.dispose();
  expect(policy.stats().bytesHeld).toBe(0);
  // The policy starts over empty for the allocator still in use.
  createInstance({ driver }, { allocator: b }).destroy();
  expect(b.stats().liveCount).toBe(0);
});

test('refused from inside a policy callback (a command is running)', () => {
  let refusal: unknown = null;
  let self: HostAllocator | null = null;
  class DisposingPolicy extends CountingPolicy {
    override allocate(size: number, alignment: number, scope: AllocationScope): number {
      if (refusal === null) {
        try {
          self!.dispose();
          refusal = 'not refused';
        } catch (e) {
          refusal = e;
        }
      }
      return super.allocate(size, alignment, scope);
    }
  }
  self = new HostAllocator(new DisposingPolicy(new AlignedHeaderPolicy()));
  createInstance({ driver }, { allocator: self }).destroy();
  expect(refusal).toEqual(new Error('Cannot dispose a HostAllocator during a Vulkan command (vkCreateInstance is running)'));
  expect(self.disposed).toBe(false);
  self.dispose();
});

function child(body: string) {
  const dist = JSON.stringify(path.join(__dirname, '..', '..', 'dist'));
  const r = spawnSync(process.execPath, ['--expose-gc', '-e',
    `const v = require(${dist}); const native = require(${dist} + '/native/binding').default;\n${body}`],
  { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

test('a dropped allocator\'s chunks are freed after gc(), in a loop that never yields', () => {
  const r = child(`
    const before = native.chunkStats().bytes;
    // (in a function of its own: a frame still running may hold its last temporaries)
    (() => { for (let i = 0; i < 5; i++) v.createInstance({ driver: '${driver}' }, { allocator: new v.HostAllocator() }).destroy(); })();
    const held = native.chunkStats().bytes - before;
    // A collection, then the next obtain/release frees the chunks. Twice in ~30 runs
    // under jest, one allocator's chunks (2.1 MB) outlived the first collection (never
    // in 46 plain node runs; not understood yet): a second round, still not yielding.
    let after = 0;
    for (let round = 0; round < 2; round++) {
      global.gc();
      v.nativeChunkSource.release(v.nativeChunkSource.obtain(16));  // chunks are freed at the next obtain/release
      after = native.chunkStats().bytes - before;
      if (after === 0) break;
    }
    console.log(JSON.stringify({ held, after }));
  `);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ held: expect.any(Number), after: 0 });
  expect(JSON.parse(r.stdout).held).toBeGreaterThan(1 << 20);
});

test('NATIVE_POLICY: the blocks the JS thread keeps for reuse go back to malloc at dispose()', () => {
  const allocator = new HostAllocator(NATIVE_POLICY);
  const bridge = bridgeOf(allocator);
  createInstance({ driver }, { allocator }).destroy();
  const kept = native.__testDriver.cachedBlocks(bridge);
  expect(kept).toBeGreaterThan(0);  // small blocks the instance freed, waiting for the next one
  createInstance({ driver }, { allocator }).destroy();
  expect(native.__testDriver.cachedBlocks(bridge)).toBeLessThanOrEqual(64 * 16);  // bounded
  allocator.dispose();
  expect(native.__testDriver.cachedBlocks(bridge)).toBe(0);
  expect(allocator.stats()).toMatchObject({ liveCount: 0, unknownPointers: 0 });
});

// Node finalizes the buffers of live chunks at exit, before vkalloc's teardown has
// destroyed the objects in them: those must not be freed early, while chunks of a
// collected policy may be.
test.each([['the end of the script', ''], ['process.exit()', 'process.exit(0);']])(
  'exit by %s with live objects and a collected policy: no crash', (_how, end) => {
    const r = child(`
      const live = new v.HostAllocator();
      const instance = v.createInstance({ driver: '${driver}' }, { allocator: live });
      instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator: live });
      (() => v.createInstance({ driver: '${driver}' }, { allocator: new v.HostAllocator() }).destroy())();
      global.gc();
      v.nativeChunkSource.release(v.nativeChunkSource.obtain(16));
      console.log('ok');
      ${end}
    `);
    expect(r).toEqual({ status: 0, signal: null, stdout: 'ok', stderr: '' });
  });
