// Per-environment state: worker threads each run their own instance and allocator,
// and objects a program never destroys are destroyed at exit (process or worker)
// without a crash. Runs the compiled package (dist/) in child processes/workers.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Worker } from 'worker_threads';

const dist = path.join(__dirname, '..', '..', 'dist', 'index.js');

const script = (driver: string, destroy: boolean) => `
  const v = require(${JSON.stringify(dist)});
  const allocator = new v.HostAllocator();
  const instance = v.createInstance({ driver: '${driver}' }, { allocator });
  const device = instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator });
  const buffer = device.createBuffer({ size: 4096, usage: ['storage'] }, { allocator });
  const req = buffer.memoryRequirements;
  const memory = device.allocateMemory({ size: req.size, memoryType: 0 }, { allocator });
  buffer.bindMemory(memory);
  new Uint8Array(memory.map()).fill(3);
  const fence = device.createFence({}, { allocator });
  device.queue(0).submit([{}], fence);
  fence.wait();
  const before = allocator.stats();
  ${destroy ? 'instance.destroy();' : '/* left alive on purpose */'}
  const now = allocator.stats();
  // lavapipe's queue thread may still free a block after the fence is signalled.
  const lateFrees = now.offThreadCalls.free - before.offThreadCalls.free;
  const result = { live: before.liveCount, after: now.liveCount, lateFrees, calls: now.calls.allocate };
`;

test('objects left alive are destroyed at process exit, children first, without a crash', () => {
  const child = spawnSync(process.execPath, ['-e', `${script('lavapipe', false)}; console.log(JSON.stringify(result));`], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  const result = JSON.parse(child.stdout);
  expect(result.live).toBeGreaterThan(0);
});

test('worker threads each have their own instance and allocator, at the same time', async () => {
  const runWorker = (driver: string, destroy: boolean) =>
    new Promise<{ live: number; after: number; lateFrees: number; calls: number }>((resolve, reject) => {
      const worker = new Worker(`${script(driver, destroy)}; require('worker_threads').parentPort.postMessage(result);`, { eval: true });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const results = await Promise.all([runWorker('lavapipe', true), runWorker('swiftshader', true), runWorker('lavapipe', false)]);
  for (const r of results) expect(r.live).toBeGreaterThan(0);
  expect(results[0].after).toBe(0);
  expect(results[1].after).toBe(0);
  // Left alive: destroyed when the worker ends (less what the driver's queue thread freed meanwhile).
  expect(results[2].after).toBe(results[2].live - results[2].lateFrees);
});

test('a worker terminated with live objects does not bring the process down', async () => {
  const worker = new Worker(`${script('lavapipe', false)}; require('worker_threads').parentPort.postMessage('ready'); setInterval(() => {}, 1000);`, { eval: true });
  await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  expect(await worker.terminate()).toBe(1);
});
