#!/usr/bin/env node
// `npm run bench`: the bridge's cost, measured as ratios taken side by side in one
// run (variants interleaved within each round, in rotating order), each printed with
// its spread across rounds (min / median / max of the per-round ratios): a target is
// met only when it holds across the spread (the worst round), so that noise is not
// taken for a gain or a regression. Measures: callback round trips, whole commands
// on lavapipe and SwiftShader, device-cycle RSS (child processes), policy memory,
// the fault-injection sweep against the CTS procedure in C (bench/sweep-cts.c, built
// with cc), and trace export (bench/trace-export.js, child processes).
// Prints a table and writes bench/results.json. `--quick`: fewer pairs and rounds.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const v = require('../dist/index.js');
const native = require('../dist/native/binding.js').default;
const { bridgeOf } = require('../dist/allocator/host-allocator.js');
const { findLavapipe, findSwiftshader } = require('../dist/vulkan/driver.js');

const quick = process.argv.includes('--quick');
const ROUNDS = Number(process.env.BENCH_ROUNDS || (quick ? 5 : 15));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** min / median / max of samples. */
function spread(xs) {
  return { min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

/** Runs each variant once per round, in rotating order, after one warm-up round; the samples. */
function interleaveSamples(variants, rounds) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const names = Object.keys(variants);
  for (let r = -1; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + Math.max(r, 0)) % names.length];
      const value = variants[name]();
      if (r >= 0) samples[name].push(value);
    }
  }
  return samples;
}

/** The spread of the per-round ratios a[i] / b[i] of two variants measured in the same rounds. */
function ratioSpread(a, b) {
  return spread(a.map((x, i) => x / b[i]));
}

// ---- 1. callback round trips through the real function pointers ----------------

const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, 'lavapipe-allocations.json'), 'utf8'));
// The distribution of real lavapipe runs, capped at 64 KiB as the target states
// (the few larger blocks go to dedicated chunks in every variant alike).
const picks = recorded.sizes.map((s, i) => [s, recorded.alignments[i]]).filter(([s]) => s <= 65536);
const N = quick ? 20000 : 100000;
const sizes = new Float64Array(N);
const alignments = new Float64Array(N);
for (let i = 0; i < N; i++) [sizes[i], alignments[i]] = picks[(i * 7919) % picks.length];

const tsAllocator = new v.HostAllocator(new v.AlignedHeaderPolicy());
// The same policy calling into JS for every allocation, as before ready blocks.
const syncAllocator = new v.HostAllocator(new v.AlignedHeaderPolicy({ readyBlocks: false }));
const tracedAllocator = new v.HostAllocator(new v.AlignedHeaderPolicy());
const cppAllocator = new v.HostAllocator(v.NATIVE_POLICY);
const TS = 'TypeScript AlignedHeaderPolicy';
const SYNC = 'the same, ready blocks off';
const TRACED = 'TypeScript policy, tracing on';
const CPP = 'C++ aligned allocator (NATIVE_POLICY)';
const MALLOC = 'posix_memalign + free, no callbacks';

/**
 * Like interleaveSamples, for runs of nanoseconds: each round runs the N pairs in
 * SLICES slices, every variant one slice in turn (rotating), so that a preemption or
 * a neighbour's burst falls on the variants alike rather than on one whole run; a
 * sample is a variant's ns per pair over its slices. A variant is
 * { run(sizes, alignments): ns for those pairs, begin?(), end?() } (begin/end: around a round).
 */
const SLICES = 10;
function interleaveSlices(variants, rounds) {
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((k) => [k, []]));
  const per = Math.floor(N / SLICES);
  const slices = Array.from({ length: SLICES }, (_, k) =>
    [sizes.subarray(k * per, (k + 1) * per), alignments.subarray(k * per, (k + 1) * per)]);
  for (let r = -1; r < rounds; r++) {
    const ns = Object.fromEntries(names.map((k) => [k, 0]));
    for (const name of names) variants[name].begin?.();
    for (let k = 0; k < SLICES; k++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + k + Math.max(r, 0)) % names.length];
        ns[name] += variants[name].run(...slices[k]);
      }
    }
    for (const name of names) variants[name].end?.();
    if (r >= 0) for (const name of names) samples[name].push(ns[name] / (per * SLICES));
  }
  return samples;
}
const through = (allocator, mode) => ({ run: (s, a) => native.__testDriver.bench(bridgeOf(allocator), s, a, mode) });
const pairSamples = interleaveSlices({
  [TS]: through(tsAllocator, 'pairs'),
  [SYNC]: through(syncAllocator, 'pairs'),
  // A fresh trace per round, preallocated, so that growth is not what is measured.
  [TRACED]: { ...through(tracedAllocator, 'pairs'), begin: () => tracedAllocator.startTrace({ capacity: 3 * N + 16 }),
    end: () => tracedAllocator.stopTrace() },
  [CPP]: through(cppAllocator, 'pairs'),
  [MALLOC]: { run: (s, a) => native.__testDriver.bench(null, s, a, 'malloc') },
}, ROUNDS);
const reallocSamples = interleaveSlices({
  [TS]: through(tsAllocator, 'realloc'),
  [CPP]: through(cppAllocator, 'realloc'),
}, ROUNDS);

// ---- 2. whole commands, per driver -------------------------------------------------

function timeMs(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const DEVICE_BATCH = quick ? 3 : 10;
// A lavapipe instance takes ~3 ms: one per sample is at the mercy of a single
// preemption, so each sample is a batch, timed as its mean.
const INSTANCE_BATCH = quick ? 2 : 5;

/** vkCreateInstance, vkCreateDevice, and device cycles with one allocator for instance and device, on one driver. */
function commandMeasures(driver, withDevice) {
  // One allocator per variant, kept across rounds, as an application keeps its allocator.
  const allocators = {
    'NULL allocator': null,
    'TypeScript policy': new v.HostAllocator(),
    'TS, ready blocks off': new v.HostAllocator(new v.AlignedHeaderPolicy({ readyBlocks: false })),
    'C++ policy': new v.HostAllocator(v.NATIVE_POLICY),
  };
  const instance = interleaveSamples(Object.fromEntries(Object.entries(allocators).map(([name, allocator]) => [name, () =>
    timeMs(() => {
      for (let i = 0; i < INSTANCE_BATCH; i++) v.createInstance({ driver }, { allocator }).destroy();
    }) / INSTANCE_BATCH])), ROUNDS);
  let device = null;
  if (withDevice) {
    const hostInstance = v.createInstance({ driver });
    const gpu = hostInstance.physicalDevices()[0];
    device = interleaveSamples(Object.fromEntries(Object.entries(allocators).map(([name, allocator]) => [name, () =>
      timeMs(() => {
        for (let i = 0; i < INSTANCE_BATCH; i++) gpu.createDevice({ queues: [{ family: 0 }] }, { allocator }).destroy();
      }) / INSTANCE_BATCH])), ROUNDS);
    hostInstance.destroy();
  }
  // As users do (README): one allocator for the instance and its devices, so that what
  // the device asks of its instance's allocator goes through the policy too.
  const setups = Object.fromEntries(Object.entries(allocators).map(([name, allocator]) => {
    const inst = v.createInstance({ driver }, { allocator });
    return [name, { inst, gpu: inst.physicalDevices()[0], allocator }];
  }));
  const cycle = interleaveSamples(Object.fromEntries(Object.entries(setups).map(([name, { gpu, allocator }]) => [name, () =>
    timeMs(() => {
      for (let i = 0; i < DEVICE_BATCH; i++) gpu.createDevice({ queues: [{ family: 0 }] }, { allocator }).destroy();
    }) / DEVICE_BATCH])), ROUNDS);
  for (const { inst } of Object.values(setups)) inst.destroy();
  // Calls into JS (crossings) for one more vkCreateInstance+Destroy, against its allocations.
  const crossings = {};
  for (const name of ['TypeScript policy', 'TS, ready blocks off']) {
    const bridge = bridgeOf(allocators[name]);
    const [c0, a0] = [native.__testDriver.crossings(bridge), allocators[name].stats().calls.allocate];
    v.createInstance({ driver }, { allocator: allocators[name] }).destroy();
    crossings[name] = { crossings: native.__testDriver.crossings(bridge) - c0, allocations: allocators[name].stats().calls.allocate - a0 };
  }
  return { instance, device, cycle, crossings };
}

const lavapipe = commandMeasures('lavapipe', true);
const swiftshaderFound = findSwiftshader();
const swiftshader = swiftshaderFound ? commandMeasures('swiftshader', false) : null;

// ---- 3. memory: what the policy holds at peak for what the driver asked ----------

// The demo's own workload (instance, device, buffers, a million-element compute job),
// its output silenced. Everything taken from native memory counts: blocks, slack,
// headers, spare slabs and the chunks the retaining pool keeps. Deterministic: one run.
const { runDemo } = require('../dist/workloads/demo.js');
const log = console.log;
console.log = () => {};
let demo;
try {
  demo = runDemo({ driver: 'lavapipe' });
} finally {
  console.log = log;
}
const memory = {
  requestedPeakBytes: demo.stats.peakBytes,
  policyPeakBytesHeld: demo.allocator.policy.source.peakHeldBytes,
};
memory.ratio = memory.policyPeakBytesHeld / memory.requestedPeakBytes;

// ---- 4. the sweep: `vkalloc sweep instance` against the CTS procedure in C -----------

// Both sides sweep vkCreateInstance on lavapipe, side by side in each round. A run of
// vkalloc pays a fixed cost first (two Node processes start, the worker loads the
// addon) that the C program, one process, does not, so one short run mixes two things.
// They are taken apart: each side runs SWEEP_SHORT and SWEEP_LONG points; the
// difference over the extra points is the cost per point (the target compares these),
// and what the short run took beyond its points is the startup. Then the whole sweep
// (~1560 points) with --jobs 1, the default --jobs, and C; and, for comparison with
// earlier figures, the short run's wall time per point.
const SWEEP_SHORT = quick ? 30 : 150;
const SWEEP_LONG = quick ? 330 : 750;
const SWEEP_ROUNDS = quick ? 2 : 3;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-bench-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
function run(file, args, what) {
  const r = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.error ? r.error.message : `exit ${r.status}`}): ${(r.stderr || '').trim()}`);
  return r.stdout;
}
let sweepMeasure = null;
{
  const icd = findLavapipe();
  const exe = path.join(tmp, 'sweep-cts');
  const cc = spawnSync('cc', ['-std=c11', '-O2', '-o', exe, path.join(__dirname, 'sweep-cts.c'), '-ldl'], { encoding: 'utf8' });
  if (cc.status !== 0) {
    console.error(`bench: the sweep measure is skipped, cc could not build bench/sweep-cts.c (needs gcc and libvulkan-dev): ${(cc.stderr || cc.error?.message || '').trim()}`);
  } else {
    const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
    /** ms for a vkalloc sweep of `points` points (5000: the whole sweep), checking it ran them. */
    const vkalloc = (points, jobs) => {
      const t = process.hrtime.bigint();
      const report = JSON.parse(run(process.execPath, [cli, 'sweep', 'instance', '--driver', icd, '--max', String(points),
        ...(jobs ? ['--jobs', String(jobs)] : []), '--json'], 'vkalloc sweep'));
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (points !== 5000 && report.points.length !== points) throw new Error(`vkalloc sweep ran ${report.points.length} points, not ${points}`);
      if (report.totals.points !== report.totals.cleanOom + (report.totals.succeededAt === null ? 0 : 1)) throw new Error('vkalloc sweep found a point that was not clean');
      return ms;
    };
    /** ms for the C sweep, the whole process (as vkalloc's is). */
    const c = (points) => {
      const t = process.hrtime.bigint();
      const r = JSON.parse(run(exe, [icd, String(points)], 'sweep-cts'));
      if (!r.clean) throw new Error('the C sweep found a point that was not clean');
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const samples = interleaveSamples({
      'vkalloc short': () => vkalloc(SWEEP_SHORT, 1),
      'vkalloc long': () => vkalloc(SWEEP_LONG, 1),
      'C short': () => c(SWEEP_SHORT),
      'C long': () => c(SWEEP_LONG),
      'whole: vkalloc --jobs 1': () => vkalloc(5000, 1),
      'whole: vkalloc default --jobs': () => vkalloc(5000),
      'whole: C': () => c(5000),
    }, SWEEP_ROUNDS);
    const extra = SWEEP_LONG - SWEEP_SHORT;
    const perPoint = (side) => samples[`${side} long`].map((ms, i) => (ms - samples[`${side} short`][i]) / extra);
    const startup = (side) => samples[`${side} short`].map((ms, i) => ms - SWEEP_SHORT * perPoint(side)[i]);
    const msPerPoint = { vkalloc: perPoint('vkalloc'), C: perPoint('C') };
    const wallPerPoint = { vkalloc: samples['vkalloc short'].map((ms) => ms / SWEEP_SHORT), C: samples['C short'].map((ms) => ms / SWEEP_SHORT) };
    sweepMeasure = {
      points: { short: SWEEP_SHORT, long: SWEEP_LONG },
      msPerPoint,
      ratio: ratioSpread(msPerPoint.vkalloc, msPerPoint.C),
      startupMs: { vkalloc: startup('vkalloc'), C: startup('C') },
      wallPerPoint,
      wallRatio: ratioSpread(wallPerPoint.vkalloc, wallPerPoint.C),
      wholeMs: Object.fromEntries(Object.entries(samples).filter(([k]) => k.startsWith('whole: ')).map(([k, xs]) => [k.slice(7), xs])),
      jobs: os.availableParallelism(),
      samplesMs: samples,
    };
  }
}

// ---- 5. trace export: 150 instances traced, then the Chrome JSON and the Perfetto trace ----

const EXPORT_INSTANCES = quick ? 20 : 150;
const EXPORT_ROUNDS = quick ? 1 : 3;
const exportScript = path.join(__dirname, 'trace-export.js');
const traceFile = path.join(tmp, 'instances.vkatrace');
const recordRun = JSON.parse(run(process.execPath, [exportScript, 'record', traceFile, String(EXPORT_INSTANCES)], 'trace record'));
const exportRuns = { chrome: [], perfetto: [] };
for (let i = 0; i < EXPORT_ROUNDS; i++) {
  // Side by side, one process each, so that both see the same machine.
  for (const format of ['chrome', 'perfetto']) {
    const out = path.join(tmp, `export.${format}`);
    exportRuns[format].push(JSON.parse(run(process.execPath, [exportScript, 'export', traceFile, out, format], `trace export (${format})`)));
  }
}
// peakRss is the process's VmHWM; baselineRss its RSS with vkalloc loaded, before the
// trace is read (Node alone is ~40 MB: more than twice a 20 MB trace by itself).
const exportOf = (runs) => ({
  bytes: runs[0].bytes,
  ms: spread(runs.map((e) => e.ms)),
  peakRss: spread(runs.map((e) => e.peakRss)),
  baselineRss: spread(runs.map((e) => e.baselineRss)),
  aboveBaseline: spread(runs.map((e) => e.peakRss - e.baselineRss)),
});
const traceExport = {
  instances: EXPORT_INSTANCES,
  traceBytes: recordRun.bytes,
  chrome: exportOf(exportRuns.chrome),
  perfetto: exportOf(exportRuns.perfetto),
};

// ---- 6. RSS across device cycles, one allocator for instance and device ----------

const { soak, growth } = require('../scripts/soak.js');
const SOAK = { workload: 'device', driver: 'lavapipe', warmup: 50, rounds: 4, per: quick ? 25 : 100 };
const rssPerCycle = {};
(async () => {
  for (const [name, mode] of [['NULL allocator', 'null'], ['TypeScript policy', 'ts'], ['C++ policy', 'native']]) {
    const r = await soak({ ...SOAK, mode });
    rssPerCycle[name] = { perCycleKiB: growth(r).grew / (SOAK.rounds * SOAK.per) / 1024, rssMiB: r.rss.map((x) => x / 1048576) };
  }
  report();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

// ---- report ------------------------------------------------------------------------

function report() {
  const one = (x) => ({ min: x, median: x, max: x });
  const TSP = 'TypeScript policy';
  const NUL = 'NULL allocator';
  // [name, spread, target]: met when the spread's max is within the target.
  const targets = [
    ['pair: C++ policy through the bridge / posix_memalign+free', ratioSpread(pairSamples[CPP], pairSamples[MALLOC]), 2.5],
    ['pair: TypeScript AlignedHeaderPolicy (ns)', spread(pairSamples[TS]), 150],
    ['pair: tracing on / tracing off', ratioSpread(pairSamples[TRACED], pairSamples[TS]), 1.05],
    ['lavapipe vkCreateInstance+Destroy: TS policy / NULL', ratioSpread(lavapipe.instance[TSP], lavapipe.instance[NUL]), 1.05],
    ['lavapipe vkCreateDevice+Destroy: TS policy / NULL', ratioSpread(lavapipe.device[TSP], lavapipe.device[NUL]), 1.05],
    ['lavapipe device cycle, one TS allocator / NULL', ratioSpread(lavapipe.cycle[TSP], lavapipe.cycle[NUL]), 1.05],
  ];
  if (swiftshader) {
    targets.push(['SwiftShader vkCreateInstance+Destroy: TS policy / NULL', ratioSpread(swiftshader.instance[TSP], swiftshader.instance[NUL]), 1.05]);
    targets.push(['SwiftShader device cycle, one TS allocator / NULL', ratioSpread(swiftshader.cycle[TSP], swiftshader.cycle[NUL]), 1.05]);
  }
  targets.push(['RSS growth per device cycle, TS - NULL (KiB)', one(rssPerCycle[TSP].perCycleKiB - rssPerCycle[NUL].perCycleKiB), 8]);
  targets.push(['policy bytes held at peak / bytes requested', one(memory.ratio), 1.2]);
  if (sweepMeasure) targets.push(['sweep instance (lavapipe), per point: vkalloc / C (CTS)', sweepMeasure.ratio, 3]);
  const scaled = (s, by) => ({ min: s.min / by, median: s.median / by, max: s.max / by });
  for (const [name, x] of [['Chrome JSON', traceExport.chrome], ['Perfetto', traceExport.perfetto]]) {
    targets.push([`trace export, ${name}: size / trace file`, one(x.bytes / traceExport.traceBytes), 2]);
    targets.push([`trace export, ${name}: time (s)`, scaled(x.ms, 1000), 1]);
    targets.push([`trace export, ${name}: peak RSS / trace file`, scaled(x.peakRss, traceExport.traceBytes), 2]);
    targets.push([`trace export, ${name}: peak RSS above baseline / trace file`, scaled(x.aboveBaseline, traceExport.traceBytes), 2]);
  }

  const fmt = (x, d = 1) => x.toFixed(d);
  const sp = (s, d = 3) => `${fmt(s.min, d)} / ${fmt(s.median, d)} / ${fmt(s.max, d)}`;
  const lines = [];
  lines.push(`vkalloc benchmark: ${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}, ${ROUNDS} rounds${quick ? ' (--quick)' : ''}`);
  lines.push('Figures are min / median / max across rounds.');
  lines.push('', `Callback round trip, allocate + free (${N} pairs per run, sizes/alignments from lavapipe), ns/pair:`);
  for (const [k, xs] of Object.entries(pairSamples)) lines.push(`  ${k.padEnd(40)} ${sp(spread(xs), 1)}`);
  lines.push('', 'Allocate + reallocate (x2) + free, ns:');
  for (const [k, xs] of Object.entries(reallocSamples)) lines.push(`  ${k.padEnd(40)} ${sp(spread(xs), 1)}`);
  for (const [driver, m] of [['lavapipe', lavapipe], ['SwiftShader', swiftshader]]) {
    if (!m) {
      lines.push('', `${driver}: not found, skipped`);
      continue;
    }
    lines.push('', `Whole commands on ${driver}, ms:`);
    for (const [k, xs] of Object.entries(m.instance)) lines.push(`  vkCreateInstance+Destroy, ${k.padEnd(20)} ${sp(spread(xs))}`);
    for (const [k, c] of Object.entries(m.crossings)) lines.push(`  calls into JS per vkCreateInstance+Destroy, ${k}: ${c.crossings} (${c.allocations} allocations)`);
    if (m.device) for (const [k, xs] of Object.entries(m.device)) lines.push(`  vkCreateDevice+Destroy,   ${k.padEnd(20)} ${sp(spread(xs))}`);
    for (const [k, xs] of Object.entries(m.cycle)) lines.push(`  device cycle, one allocator, ${k.padEnd(17)} ${sp(spread(xs))}`);
  }
  lines.push('', 'RSS per device cycle (lavapipe, one allocator for instance and device, child processes):');
  for (const [k, rss] of Object.entries(rssPerCycle)) {
    lines.push(`  ${k.padEnd(20)} ${fmt(rss.perCycleKiB, 2).padStart(6)} KiB/cycle (${rss.rssMiB.map((x) => fmt(x)).join(' ')} MiB every ${SOAK.per} cycles)`);
  }
  lines.push('', `Memory (demo workload): policy held ${memory.policyPeakBytesHeld} B at peak for ${memory.requestedPeakBytes} B requested at peak`);
  if (sweepMeasure) {
    const m = sweepMeasure;
    lines.push('', `Sweep of vkCreateInstance on lavapipe (vkalloc --jobs 1 against C, one process), ms per point ` +
      `from the extra ${m.points.long - m.points.short} points of a ${m.points.long}-point run over a ${m.points.short}-point one:`);
    for (const [k, xs] of Object.entries(m.msPerPoint)) lines.push(`  ${k.padEnd(40)} ${sp(spread(xs))}`);
    lines.push(`  startup (the ${m.points.short}-point run less its points), ms:`);
    for (const [k, xs] of Object.entries(m.startupMs)) lines.push(`    ${k.padEnd(38)} ${sp(spread(xs), 0)}`);
    lines.push(`  the ${m.points.short}-point run's wall time per point, ms (vkalloc / C: ${sp(m.wallRatio, 1)}):`);
    for (const [k, xs] of Object.entries(m.wallPerPoint)) lines.push(`    ${k.padEnd(38)} ${sp(spread(xs))}`);
    lines.push(`  the whole sweep, ms (default --jobs here: ${m.jobs}):`);
    for (const [k, xs] of Object.entries(m.wholeMs)) lines.push(`    ${k.padEnd(38)} ${sp(spread(xs), 0)}`);
  }
  lines.push('', `Trace of ${EXPORT_INSTANCES} instances on lavapipe: trace file ${fmt(traceExport.traceBytes / 1048576)} MiB; exports:`);
  for (const [name, x] of [['Chrome JSON', traceExport.chrome], ['Perfetto', traceExport.perfetto]]) {
    lines.push(`  ${name.padEnd(12)} ${fmt(x.bytes / 1048576).padStart(6)} MiB, ${sp(x.ms, 0)} ms, peak RSS ${sp(scaled(x.peakRss, 1048576), 0)} MiB` +
      ` (baseline ${sp(scaled(x.baselineRss, 1048576), 0)} MiB)`);
  }
  lines.push('', 'Targets (met only when the worst round is within the target):');
  for (const [name, s, target] of targets) {
    lines.push(`  ${name.padEnd(64)} ${sp(s).padStart(23)}  (<= ${target})  ${s.max <= target ? 'met' : s.median <= target ? 'MISSED (median met)' : 'MISSED'}`);
  }
  console.log(lines.join('\n'));

  const results = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0].model, cores: os.cpus().length, node: process.version, load: os.loadavg() },
    rounds: ROUNDS,
    quick,
    pairsNs: pairSamples,
    reallocNs: reallocSamples,
    lavapipe,
    swiftshader,
    rssPerDeviceCycle: rssPerCycle,
    memory,
    sweep: sweepMeasure,
    traceExport,
    targets: targets.map(([name, s, target]) => ({ name, ...s, target, met: s.max <= target })),
  };
  fs.writeFileSync(path.join(__dirname, quick ? 'results-quick.json' : 'results.json'), JSON.stringify(results, null, 2) + '\n');
}
