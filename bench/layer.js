#!/usr/bin/env node
// `node bench/layer.js`: what tracing a program with the vkalloc layer costs. Vulkan
// startup work (vulkaninfo --summary; the compute fixture of test/layer/, which creates an
// instance, a device, buffers and a pipeline and runs a dispatch) is timed as whole
// processes, with and without the layer (trace streamed to a file), interleaved round by
// round so that both see the same machine load; ratios of medians, with each side's
// spread (interquartile range). Wall time carries the machine's noise (other processes,
// the programs' own waits); where `perf` works, CPU time (task-clock of the program and
// its threads) is measured as well and is the steadier figure. Target: <= 1.10x.
//
//   node bench/layer.js [--rounds N] [--driver lavapipe|swiftshader]
// Needs node scripts/setup.js (the layer, dist/) and --for-tests for SwiftShader.
'use strict';
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { layerEnv } = require('../dist/layer/run.js');
const { findLavapipe, findSwiftshader } = require('../dist/vulkan/driver.js');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const ROUNDS = Number(option('--rounds', process.env.BENCH_ROUNDS || 21));
const onlyDriver = option('--driver', null);
const TARGET = 1.10;

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.ceil(at)] - s[lo]) * (at - lo);
}

function compileCompute(dir) {
  const out = path.join(dir, 'compute');
  const r = childProcess.spawnSync('cc', ['-std=c11', '-O1', '-o', out, path.join(__dirname, '..', 'test', 'fixtures', 'layer', 'compute.c'), '-lvulkan'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed: ${r.stderr}`);
  return out;
}

let perfFile = null;  // set when `perf stat` works here

function timeRun(command, env) {
  const argv = perfFile ? ['perf', 'stat', '-x,', '-e', 'task-clock', '-o', perfFile, ...command] : command;
  const start = process.hrtime.bigint();
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${command.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.slice(-500)}`);
  const cpu = perfFile ? Number((/^([\d.]+),msec,task-clock/m.exec(fs.readFileSync(perfFile, 'utf8')) || [])[1]) : NaN;
  return { wall, cpu };
}

function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-bench-layer-'));
  try {
    const compute = compileCompute(dir);
    const probe = path.join(dir, 'perf.txt');
    const perf = childProcess.spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '-o', probe, 'true'], { stdio: 'ignore' });
    if (perf.status === 0 && /task-clock/.test(fs.readFileSync(probe, 'utf8'))) perfFile = probe;
    const spirv = path.join(__dirname, '..', 'shaders', 'transform.spv');
    const programs = [
      { name: 'vulkaninfo --summary', command: ['vulkaninfo', '--summary'] },
      { name: 'compute fixture', command: [compute, 'null', spirv] },
    ];
    const drivers = [['lavapipe', findLavapipe()], ['swiftshader', findSwiftshader()]]
      .filter(([name, icd]) => icd && (!onlyDriver || name === onlyDriver));
    const rows = [];
    for (const [driver, icd] of drivers) {
      const base = { ...process.env, VK_DRIVER_FILES: icd, VK_ICD_FILENAMES: icd, VK_LOADER_DEBUG: 'error', DISPLAY: '' };
      const traced = layerEnv({ traceFile: path.join(dir, 'trace.%p.txt') }, base);
      for (const p of programs) {
        const samples = { without: [], with: [], withoutCpu: [], withCpu: [] };
        for (let round = -1; round < ROUNDS; round++) {  // one warm-up round
          const order = round % 2 ? ['without', 'with'] : ['with', 'without'];
          for (const side of order) {
            const t = timeRun(p.command, side === 'with' ? traced : base);
            if (round >= 0) {
              samples[side].push(t.wall);
              samples[`${side}Cpu`].push(t.cpu);
            }
          }
          for (const f of fs.readdirSync(dir)) if (f.startsWith('trace.')) fs.rmSync(path.join(dir, f));
        }
        const m = { without: quantile(samples.without, 0.5), with: quantile(samples.with, 0.5) };
        const iqr = (xs) => `${quantile(xs, 0.25).toFixed(1)}-${quantile(xs, 0.75).toFixed(1)}`;
        const cpu = { without: quantile(samples.withoutCpu, 0.5), with: quantile(samples.withCpu, 0.5) };
        rows.push({ driver, program: p.name, withoutMs: m.without, withMs: m.with, ratio: m.with / m.without,
          withoutIqr: iqr(samples.without), withIqr: iqr(samples.with),
          cpu: perfFile ? `${cpu.without.toFixed(1)} (${iqr(samples.withoutCpu)}) -> ${cpu.with.toFixed(1)} (${iqr(samples.withCpu)})` : 'n/a',
          cpuRatio: cpu.with / cpu.without });
      }
    }
    const header = ['driver', 'program', 'wall without (median, IQR) ms', 'with layer', 'ratio', 'CPU ms without -> with', 'ratio', `<= ${TARGET}x`];
    const within = (r) => (perfFile ? r.cpuRatio : r.ratio) <= TARGET;
    const body = rows.map((r) => [r.driver, r.program, `${r.withoutMs.toFixed(1)} (${r.withoutIqr})`, `${r.withMs.toFixed(1)} (${r.withIqr})`,
      `${r.ratio.toFixed(3)}x`, r.cpu, perfFile ? `${r.cpuRatio.toFixed(3)}x` : '-', within(r) ? 'yes' : 'NO']);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(`vkalloc layer: whole-process run time with the layer tracing / without it (${ROUNDS} rounds, interleaved)\n`);
    console.log([line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n'));
    console.log(`\nThe target is judged on ${perfFile ? 'CPU time (perf task-clock)' : 'wall time (perf is not available)'}.`);
    process.exitCode = rows.every(within) ? 0 : 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
