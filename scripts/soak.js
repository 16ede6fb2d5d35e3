#!/usr/bin/env node
// `npm run soak`: long loops of what users repeat, printing the process's resident
// memory (RSS) after each round, so growth shows as a curve. Each loop runs in a
// child process of its own (node --expose-gc), next to the same loop with the
// driver's own allocator (NULL) as the baseline:
//
//   device    one allocator; its instance made once; vkCreateDevice+vkDestroyDevice
//   instance  one allocator; vkCreateInstance, vkCreateDevice, destroy all
//   dropped   a new HostAllocator(new AlignedHeaderPolicy()) for each instance, then
//             dropped (never disposed), with gc() every 10 (the NULL baseline: the
//             same instances without an allocator)
//   chunks    native chunks of mixed sizes obtained and released, the large ones one
//             at a time as a driver asks for them (baseline: the same sizes as plain
//             ArrayBuffers)
//
//   node scripts/soak.js [--rounds N] [--per N] [--driver lavapipe|swiftshader|both] [workload ...]
//
// The loops are synchronous, as users write them; before each reading the child
// calls gc(). For `dropped` it also lets the event loop turn once, as any program
// does now and then: Node runs finalizers only there, and a dropped allocator's
// native half (a few tens of KiB) waits for them; its chunks go at the next gc().
// test/allocator/memory-soak.test.ts runs the same loops, shorter, and bounds the growth after
// warm-up by the baseline's. --child <json> is the child's entry (used by the test too).
'use strict';

const childProcess = require('child_process');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const MiB = 1024 * 1024;

// Sizes the default policy asks of its chunk source on lavapipe (slabs, dedicated
// blocks), large odd ones included; 4 MiB as in the original report.
const SMALL_CHUNKS = [4096, 5120, 8192, 24576, 40960];
const LARGE_CHUNKS = [1006736, 415248, 4 * MiB, 830480, 163840, 73728];

function makeStep(v, { workload, driver, mode }) {
  const newAllocator = () => (mode === 'null' ? null : new v.HostAllocator(mode === 'native' ? v.NATIVE_POLICY : new v.AlignedHeaderPolicy()));
  const optionsOf = (allocator) => (allocator ? { allocator } : undefined);
  const makeDevice = (instance, options) => {
    const gpu = instance.defaultPhysicalDevice();
    return gpu.createDevice({ queues: [{ family: gpu.findQueueFamily('compute') }] }, options);
  };
  switch (workload) {
    case 'device': {
      const options = optionsOf(newAllocator());
      const instance = v.createInstance({ driver }, options);
      return () => makeDevice(instance, options).destroy();
    }
    case 'instance': {
      const options = optionsOf(newAllocator());
      return () => {
        const instance = v.createInstance({ driver }, options);
        makeDevice(instance, options);
        instance.destroy();
      };
    }
    case 'dropped': {
      let count = 0;
      return () => {
        v.createInstance({ driver }, optionsOf(newAllocator())).destroy();
        if (++count % 10 === 0) global.gc();
      };
    }
    case 'chunks': {
      const source = v.nativeChunkSource;
      const obtain = mode === 'null' ? (size) => ({ buffer: new ArrayBuffer(size) }) : (size) => source.obtain(size);
      const release = mode === 'null' ? () => {} : (chunk) => source.release(chunk);
      let round = 0;
      return () => {
        const held = [];
        for (let k = 0; k < LARGE_CHUNKS.length; k++) {
          const small = obtain(SMALL_CHUNKS[(round + k) % SMALL_CHUNKS.length]);
          new Uint8Array(small.buffer).fill(1);
          held.push(small);
          const large = obtain(LARGE_CHUNKS[k]);
          new Uint8Array(large.buffer).fill(1);  // every page touched, as a driver does
          release(large);
        }
        for (const chunk of held) release(chunk);
        round++;
      };
    }
    default:
      throw new Error(`Unknown workload ${workload}`);
  }
}

/** In the child: warm-up, then `rounds` rounds of `per` steps; RSS (bytes) after each. */
async function runChild(spec) {
  const v = require(path.join(ROOT, 'dist', 'index.js'));
  const step = makeStep(v, spec);
  const settle = async () => {
    global.gc();
    if (spec.turn) {
      await new Promise((resolve) => setImmediate(resolve));
      global.gc();
    }
    // Native chunks whose buffers were collected are freed at the next obtain or
    // release: now, so that the reading does not depend on when the last one was.
    v.nativeChunkSource.release(v.nativeChunkSource.obtain(16));
    return process.memoryUsage().rss;
  };
  // Warm-up in the rounds' shape: a loop that let finalizers run only once at its end
  // would set a high-water mark of its own, and the readings after it would wander.
  for (let i = 1; i <= spec.warmup; i++) {
    step();
    if (i % spec.per === 0) await settle();
  }
  const rss = [await settle()];
  const started = process.hrtime.bigint();
  for (let r = 0; r < spec.rounds; r++) {
    for (let i = 0; i < spec.per; i++) step();
    rss.push(await settle());
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6 / (spec.rounds * spec.per);
  return { ...spec, rss, msPerStep: ms };
}

/** Runs one loop in a child process (node --expose-gc); resolves to runChild's result. */
function soak(spec) {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(process.execPath, ['--expose-gc', __filename, '--child', JSON.stringify(spec)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`soak ${JSON.stringify(spec)} exited with ${signal ?? code}: ${err.trim()}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/** Growth after warm-up (last sample minus first), and the spread of the samples, in bytes. */
function growth(result) {
  const after = result.rss;
  return { grew: after[after.length - 1] - after[0], spread: Math.max(...after) - Math.min(...after) };
}

module.exports = { soak, growth, LARGE_CHUNKS, SMALL_CHUNKS };

async function main(argv) {
  const args = { rounds: 10, per: 50, driver: 'both', workloads: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') args.rounds = Number(argv[++i]);
    else if (argv[i] === '--per') args.per = Number(argv[++i]);
    else if (argv[i] === '--driver') args.driver = argv[++i];
    else args.workloads.push(argv[i]);
  }
  const workloads = args.workloads.length > 0 ? args.workloads : ['device', 'instance', 'dropped', 'chunks'];
  const drivers = args.driver === 'both' ? ['lavapipe', 'swiftshader'] : [args.driver];
  const mib = (bytes) => (bytes / MiB).toFixed(1);
  for (const workload of workloads) {
    for (const driver of workload === 'chunks' ? ['-'] : drivers) {
      for (const mode of workload === 'dropped' || workload === 'chunks' ? ['null', 'ts'] : ['null', 'native', 'ts']) {
        const per = workload === 'instance' || workload === 'dropped' ? Math.max(1, Math.round(args.per / 2)) : args.per;
        const r = await soak({ workload, driver, mode, warmup: per, rounds: args.rounds, per, turn: workload === 'dropped' });
        const g = growth(r);
        console.log(`${workload.padEnd(8)} ${driver.padEnd(11)} ${mode.padEnd(6)} RSS MiB after warm-up and each ${per}: ` +
          `${r.rss.map(mib).join(' ')}  (${g.grew >= 0 ? '+' : ''}${mib(g.grew)} MiB, ${r.msPerStep.toFixed(2)} ms a step)`);
      }
    }
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--child');
  const run = at >= 0 ? runChild(JSON.parse(process.argv[at + 1])).then((r) => console.log(JSON.stringify(r))) : main(process.argv.slice(2));
  run.catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  });
}
