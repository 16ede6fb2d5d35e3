// Garbage collection and process lifecycle, in child processes (node --expose-gc):
// parents, allocators and policies stay alive while children live, whatever JS drops;
// and exiting at each stage of an object's life never crashes.
import { spawnSync } from 'child_process';
import * as path from 'path';

const dist = JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'index.js'));

function run(body: string, args: string[] = ['--expose-gc']) {
  const child = spawnSync(process.execPath, [...args, '-e', `const v = require(${dist});\n${body}`], { encoding: 'utf8', timeout: 60000 });
  return { status: child.status, signal: child.signal, stdout: child.stdout.trim(), stderr: child.stderr.trim() };
}

test('a child keeps its parent, allocator and policy alive through forced collections', () => {
  const r = run(`
    let fence, allocatorRef, stats;
    (function () {
      const allocator = new v.HostAllocator();
      allocatorRef = new WeakRef(allocator);
      const instance = v.createInstance({ driver: 'lavapipe' }, { allocator });
      const device = instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator });
      fence = device.createFence({}, { allocator });
      stats = () => allocator.stats().liveCount;
    })();
    // Everything but the fence (and a stats closure) is unreachable from JS now.
    for (let i = 0; i < 5; i++) { global.gc(); }
    setTimeout(() => {
      global.gc();
      const before = stats();
      fence.device.queue(0).submit([{}], fence);
      console.log(JSON.stringify({ wait: fence.wait(5e9), alive: allocatorRef.deref() !== undefined, before }));
      fence.device.physicalDevice.instance.destroy();
      console.log(JSON.stringify({ after: stats() }));
    }, 10);
  `);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const [first, second] = r.stdout.split('\n').map((l) => JSON.parse(l));
  expect(first).toMatchObject({ wait: 'success', alive: true });
  expect(first.before).toBeGreaterThan(0);
  expect(second).toEqual({ after: 0 });
});

test('objects dropped without destroy are not collected out from under the driver', () => {
  const r = run(`
    const allocator = new v.HostAllocator();
    for (let i = 0; i < 20; i++) {
      const instance = v.createInstance({ driver: 'lavapipe' }, { allocator });
      instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator }).createBuffer({ size: 64, usage: ['uniform'] }, { allocator });
      global.gc();
    }
    global.gc();
    console.log(allocator.stats().liveCount > 0 ? 'still live, as documented' : 'collected');
  `);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toBe('still live, as documented');
});

// Exit (normally, by process.exit, by an uncaught exception) at each stage.
const STAGES: [string, string][] = [
  ['after createInstance', `const i = v.createInstance({ driver: 'lavapipe' }, { allocator: a });`],
  ['after createDevice', `const d = v.createInstance({ driver: 'lavapipe' }, { allocator: a }).physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator: a });`],
  ['with a mapped memory and a pending submit', `
    const d = v.createInstance({ driver: 'lavapipe' }, { allocator: a }).physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator: a });
    const m = d.allocateMemory({ size: 4096, memoryType: 0 }, { allocator: a }); new Uint8Array(m.map()).fill(1);
    d.queue(0).submit([{}], d.createFence({}, { allocator: a }));`],
  ['while tracing with contract checks', `
    const b = new v.HostAllocator(undefined, { checkContract: true }); b.startTrace();
    v.createInstance({ driver: 'lavapipe' }, { allocator: b }).physicalDevices()[0].createDevice({ queues: [{ family: 0 }] }, { allocator: b });`],
];
const ENDINGS: [string, string, number][] = [
  ['end of script', '', 0],
  ['process.exit(3)', 'process.exit(3);', 3],
  ['an uncaught exception', 'throw new Error("boom");', 1],
];

describe.each(STAGES)('exit %s', (_stage, setup) => {
  test.each(ENDINGS)('by %s: no crash', (_ending, end, status) => {
    const r = run(`const a = new v.HostAllocator();\n${setup}\n${end}`, []);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(status);
    if (status !== 1) expect(r.stderr).toBe('');
  });
});
