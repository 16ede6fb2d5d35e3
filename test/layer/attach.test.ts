// In-process attach: a vkalloc HostAllocator (a TypeScript policy) under the Vulkan objects
// of another native addon (test/fixtures/foreign-addon/foreign.cc: Node-API and the system
// loader only, NULL pAllocator everywhere). Each case runs in a child Node process: attach
// changes process-wide state (the loader's environment, the layer loaded into the process).
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { attach, HostAllocator } from '../../lib';
import { describeOnDrivers } from '../helpers/drivers';
import { driverEnv, ROOT } from './helpers';

const DIST = path.join(ROOT, 'dist', 'index.js');
const SOURCE = path.join(ROOT, 'test', 'fixtures', 'foreign-addon', 'foreign.cc');

/** The foreign addon, compiled with g++ against node-api-headers once per content. */
function foreignAddon(): string {
  const hash = crypto.createHash('sha256').update(fs.readFileSync(SOURCE)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'vkalloc-layer-fixtures');
  const out = path.join(dir, `foreign-${hash}.node`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(dir, { recursive: true });
  const include = path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'include');
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync('g++', ['-std=c++17', '-shared', '-fPIC', '-O1', '-Wall', '-Werror', '-I', include, '-o', tmp, SOURCE, '-ldl', '-pthread'],
    { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`g++ ${SOURCE} failed: ${r.error?.message ?? r.stderr}`);
  fs.renameSync(tmp, out);
  return out;
}

/** Runs `body` in a child Node process with `v` (vkalloc) and `foreign` loaded; returns what it printed as JSON. */
// `result` is whatever JSON the child printed; each test reads the fields it set.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ChildResult = { status: number | null; signal: string | null; result: any; stderr: string };
function child(driver: string, body: string, nodeFlags: string[] = []): ChildResult {
  const script = `const v = require(${JSON.stringify(DIST)});\nconst foreign = require(${JSON.stringify(foreignAddon())});\n` +
    `const out = {};\n${body}\nprocess.stdout.write('\\n@@' + JSON.stringify(out));`;
  const env = driverEnv(driver);
  for (const name of ['VK_INSTANCE_LAYERS', 'VK_LOADER_LAYERS_ENABLE', 'VK_ADD_LAYER_PATH', 'VKALLOC_TRACE_FILE']) delete env[name];
  const r = spawnSync(process.execPath, [...nodeFlags, '-e', script], { encoding: 'utf8', env, timeout: 60000 });
  const at = r.stdout.lastIndexOf('\n@@');
  if (r.status !== 0 || at < 0) throw new Error(`child failed (status ${r.status}, signal ${r.signal}):\n${r.stdout}\n${r.stderr}`);
  return { status: r.status, signal: r.signal, result: JSON.parse(r.stdout.slice(at + 3)), stderr: r.stderr };
}

test('attach() refuses what is not a HostAllocator, naming the parameter', () => {
  expect(() => attach({} as HostAllocator)).toThrow(/Expected a HostAllocator for allocator but received an object/);
  expect(() => attach(undefined as unknown as HostAllocator)).toThrow(/Expected a HostAllocator for allocator but received undefined/);
});

describeOnDrivers('attach(): a TypeScript policy under a foreign addon', (d) => {
  test('its driver allocations reach the policy, named by command; its own threads take the native path; detach', () => {
    const { result: r } = child(d.driver, `
      out.layersBefore = v.instanceLayers().map((l) => l.name);  // the loader is loaded and has scanned
      const counting = new v.CountingPolicy(new v.AlignedHeaderPolicy());
      const allocator = new v.HostAllocator(counting, { checkContract: true });
      allocator.startTrace();
      v.attach(allocator);
      out.instance = foreign.createInstance();
      out.instanceAllocations = counting.counts.allocate;
      out.device = foreign.createDevice();
      out.buffer = foreign.createBuffer(4096);
      const before = { policy: counting.counts.allocate, calls: allocator.stats().calls.allocate };
      out.thread = foreign.bufferOnThread(4096);
      const after = allocator.stats();
      out.threadPolicy = counting.counts.allocate - before.policy;
      out.threadCalls = after.calls.allocate - before.calls;
      out.offThread = after.offThreadCalls;
      out.commands = after.commands.map((c) => ({ command: c.command, allocations: c.allocations }));
      out.live = v.attachedAllocators().map((a) => ({ attached: a.attached, liveObjects: a.liveObjects, same: a.allocator === allocator }));
      foreign.destroyBuffer();
      foreign.destroyDevice();
      out.detached = v.detach();
      out.afterDetach = v.attachedAllocators().map((a) => ({ attached: a.attached, liveObjects: a.liveObjects }));
      out.envAfterDetach = process.env.VK_INSTANCE_LAYERS ?? null;
      foreign.destroyInstance();  // after detach: still the callbacks its create got
      out.afterLastDestroy = v.attachedAllocators().length;
      const stats = allocator.stats();
      out.liveCount = stats.liveCount;
      out.unknownPointers = stats.unknownPointers;
      out.policyFrees = counting.counts.free;
      out.policyAllocations = counting.counts.allocate;
      out.violations = allocator.violations();
      const trace = allocator.stopTrace();
      const summary = trace.summary();
      out.traceCommands = summary.commands.map((c) => ({ command: c.command, allocations: c.allocations }));
      out.traceLive = summary.liveCount;
      // Detached: a new instance of the foreign addon no longer reaches the policy.
      const n = counting.counts.allocate;
      out.instance2 = foreign.createInstance();
      foreign.destroyInstance();
      out.afterDetachAllocations = counting.counts.allocate - n;
    `);
    expect(r.layersBefore).not.toContain('VK_LAYER_VKALLOC_trace');
    expect(r.instance).toBe(0);
    expect(r.device).toBe(0);
    expect(r.buffer).toBe(0);
    expect(r.thread).toBe(0);
    // The loader read the environment attach() set at vkCreateInstance: the policy served the instance.
    expect(r.instanceAllocations).toBeGreaterThan(0);
    const named = (list: { command: string; allocations: number }[], command: string) => list.find((c) => c.command === command)?.allocations ?? 0;
    expect(named(r.commands, 'vkCreateInstance')).toBeGreaterThan(0);
    expect(named(r.commands, 'vkCreateDevice')).toBeGreaterThan(0);
    expect(named(r.commands, 'vkCreateBuffer')).toBeGreaterThan(0);
    // The addon's own thread: served natively (the policy saw none of it), named by the layer's command.
    expect(r.threadCalls).toBeGreaterThan(0);
    expect(r.threadPolicy).toBe(0);
    expect(r.offThread.allocate).toBe(r.threadCalls);
    expect(r.live).toEqual([{ attached: true, liveObjects: 3, same: true }]);
    // Detach with the instance alive: it keeps the allocator until its destroy.
    expect(r.detached).toBe(1);
    expect(r.afterDetach).toEqual([{ attached: false, liveObjects: 1 }]);
    expect(r.envAfterDetach).toBeNull();
    expect(r.afterLastDestroy).toBe(0);
    expect(r.liveCount).toBe(0);
    expect(r.unknownPointers).toBe(0);
    expect(r.policyFrees).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
    expect(named(r.traceCommands, 'vkCreateInstance')).toBe(named(r.commands, 'vkCreateInstance'));
    expect(named(r.traceCommands, 'vkCreateDevice')).toBe(named(r.commands, 'vkCreateDevice'));
    expect(r.traceLive).toBe(0);
    expect(r.instance2).toBe(0);
    expect(r.afterDetachAllocations).toBe(0);
  });

  test('a FailingPolicy makes its vkCreateDevice fail with VK_ERROR_OUT_OF_HOST_MEMORY, leaving nothing live', () => {
    const { result: r } = child(d.driver, `
      const failing = new v.FailingPolicy(new v.AlignedHeaderPolicy(), { when: (q) => q.command === 'vkCreateDevice' });
      const allocator = new v.HostAllocator(failing);
      v.attach(allocator);
      out.instance = foreign.createInstance();
      const before = allocator.stats().liveCount;
      out.device = foreign.createDevice();
      out.failures = failing.failures;
      out.liveAdded = allocator.stats().liveCount - before;
      out.fromDevice = allocator.liveBlocks().filter((b) => b.command === 'vkCreateDevice').length;
      out.objects = v.attachedAllocators()[0].liveObjects;
      foreign.destroyInstance();
      out.liveCount = allocator.stats().liveCount;
      out.detached = v.detach();
    `);
    expect(r.instance).toBe(0);
    expect(r.device).toBe(-1);  // VK_ERROR_OUT_OF_HOST_MEMORY
    expect(r.failures).toBeGreaterThan(0);
    expect(r.liveAdded).toBe(0);
    expect(r.fromDevice).toBe(0);
    expect(r.objects).toBe(1);
    expect(r.liveCount).toBe(0);
    expect(r.detached).toBe(0);
  });

  test('the allocator outlives its last reference while objects made under it live, through detach and GC', () => {
    const { result: r } = child(d.driver, `
      const counting = new v.CountingPolicy(new v.AlignedHeaderPolicy());
      (() => { v.attach(new v.HostAllocator(counting)); })();  // no reference kept by the program
      global.gc();
      out.instance = foreign.createInstance();
      out.allocated = counting.counts.allocate;
      out.detached = v.detach();
      global.gc();
      const frees = counting.counts.free;
      foreign.destroyInstance();  // reaches the policy of the allocator nobody else holds
      out.freedAtDestroy = counting.counts.free - frees;
      out.remaining = v.attachedAllocators().length;
    `, ['--expose-gc']);
    expect(r.instance).toBe(0);
    expect(r.allocated).toBeGreaterThan(0);
    expect(r.detached).toBe(1);
    expect(r.freedAtDestroy).toBeGreaterThan(0);
    expect(r.remaining).toBe(0);
  });

  test('one allocator at a time; a process that exits with the foreign objects alive exits cleanly', () => {
    const { result: r, stderr } = child(d.driver, `
      const a = new v.HostAllocator(new v.AlignedHeaderPolicy());
      v.attach(a);
      try { v.attach(new v.HostAllocator()); } catch (e) { out.second = e.message; }
      out.instance = foreign.createInstance();
      out.device = foreign.createDevice();
      out.buffer = foreign.createBuffer(1024);
      out.live = a.stats().liveCount;
      // exit without destroying: the environment's teardown orphans the attachment
    `);
    expect(r.second).toMatch(/already attached: call detach\(\) first/);
    expect(r.instance).toBe(0);
    expect(r.device).toBe(0);
    expect(r.buffer).toBe(0);
    expect(r.live).toBeGreaterThan(0);
    expect(stderr).not.toMatch(/vkalloc layer:/);
  });
});
