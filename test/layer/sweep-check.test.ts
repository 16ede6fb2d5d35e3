// `vkalloc sweep -- <command>` and `vkalloc check -- <command>` on unmodified C programs
// (test/fixtures/layer/faulty.c) that handle a refused allocation the ways real programs
// do: gracefully, by crashing, by retrying forever, by leaking. On SwiftShader when it is
// among the test drivers (few allocations per run: a short sweep), else the first driver.
import * as fs from 'fs';
import * as path from 'path';
import { runTraced } from '../../lib/layer/run';
import { sweepProgram } from '../../lib/layer/sweep-program';
import { DRIVERS } from '../helpers/drivers';
import { cli, fixture, SHADER, tmpDir } from './helpers';

const driver = DRIVERS.find((d) => d.driver === 'swiftshader')?.driver ?? DRIVERS[0].driver;
const tmp = tmpDir('layer-sweep');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Host allocations made before the first one in `command` in an unrefused run: the CTS point that refuses it. */
async function pointOf(program: string[], command: string): Promise<number> {
  const traced = await runTraced(program, { driver });
  try {
    const d = traced.trace!.data;
    let n = 0;
    for (let i = 0; i < d.count; i++) {
      if (d.kind[i] !== 0 && d.kind[i] !== 1) continue;  // allocate, reallocate
      if (d.commands[d.command[i]] === command) return n;
      n++;
    }
    throw new Error(`${command} made no allocation`);
  } finally {
    fs.rmSync(traced.dir, { recursive: true, force: true });
  }
}

describe(`vkalloc sweep -- <program> on ${driver}`, () => {
  test('a program that uses the handle of a failed create: crashes, each at the point that refuses its command', async () => {
    const program = [fixture('faulty'), 'crash'];
    const report = await sweepProgram(program, { driver, timeoutMs: 10000 });
    expect(report.finished).toBe(true);
    expect(report.allocations).toBeGreaterThan(3);
    const refusing = report.points.filter((p) => p.point < report.allocations);
    expect(refusing.length).toBe(report.allocations);
    expect(refusing.every((p) => p.outcome === 'crash' && p.refusedCommand !== null && p.signal !== null)).toBe(true);
    expect(report.points.find((p) => p.point === report.allocations)?.outcome).toBe('complete');

    const buffer = report.points.find((p) => p.refusedCommand === 'vkCreateBuffer')!;
    expect(buffer.point).toBe(await pointOf(program, 'vkCreateBuffer'));
    expect(buffer).toMatchObject({ outcome: 'crash', signal: 'SIGSEGV', lastCommand: 'vkGetBufferMemoryRequirements' });
  });

  test('a program that retries a refused vkCreateFence forever: a hang; --only limits the sweep to that command', async () => {
    const report = await sweepProgram([fixture('faulty'), 'hang'], { driver, timeoutMs: 1000, failOnly: ['vkCreateFence'], maxPoints: 4 });
    expect(report.allocations).toBeGreaterThan(0);
    // Every point that refuses one of vkCreateFence's allocations hangs; then one completes.
    const outcomes = report.points.map((p) => p.outcome);
    expect(outcomes.slice(0, report.allocations).every((o) => o === 'hang')).toBe(true);
    if (report.allocations < 4) expect(outcomes[report.allocations]).toBe('complete');
    expect(report.points[0]).toMatchObject({ point: 0, refusedCommand: 'vkCreateFence', lastCommand: 'vkCreateFence', signal: 'SIGKILL' });
  });

  test('a program that exits without destroying what it made: leaks, except before the instance exists', async () => {
    const report = await sweepProgram([fixture('faulty'), 'leak'], { driver });
    expect(report.baselineLive).toBe(0);
    expect(report.totals.leak).toBeGreaterThan(0);
    for (const p of report.points.filter((x) => x.outcome === 'leak')) {
      expect(p.liveAtExit).toBeGreaterThan(0);
      expect(p.status).toBe(1);
      expect(p.message).toMatch(/faulty: \w+ failed with -1/);
    }
    // A refused vkCreateInstance leaves nothing: that point is graceful.
    expect(report.points.filter((p) => p.refusedCommand === 'vkCreateInstance').every((p) => p.outcome === 'graceful')).toBe(true);
  });

  test('the CLI: a graceful program passes, --json and --junit say so; a crashing one fails with one JUnit failure per crash', async () => {
    const junit = path.join(tmp, 'graceful.xml');
    const ok = await cli(['sweep', '--driver', driver, '--json', '--junit', junit, '--jobs', '2', '--', fixture('faulty'), 'graceful']);
    expect(ok.status).toBe(0);
    const report = JSON.parse(ok.out);
    expect(report.totals.crash + report.totals.hang + report.totals.leak).toBe(0);
    expect(report.totals.graceful).toBe(report.allocations);
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toContain(`tests="${report.points.length}" failures="0"`);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(report.points.length);

    const crashXml = path.join(tmp, 'crash.xml');
    const bad = await cli(['sweep', '--driver', driver, '--junit', crashXml, '--', fixture('faulty'), 'crash']);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/Findings:[\s\S]*crash \(SIGSEGV\)\s+vkCreateBuffer\s+vkGetBufferMemoryRequirements/);
    const crashes = (fs.readFileSync(crashXml, 'utf8').match(/<failure type="crash"/g) ?? []).length;
    expect(crashes).toBeGreaterThan(3);
  });

  test('--shard I/N splits the points between runs', async () => {
    const program = [fixture('faulty'), 'graceful'];
    const [a, b] = await Promise.all([0, 1].map((index) => sweepProgram(program, { driver, shard: { index, count: 2 }, jobs: 1 })));
    expect(a.points.every((p) => p.point % 2 === 0)).toBe(true);
    expect(b.points.every((p) => p.point % 2 === 1)).toBe(true);
    const all = [...a.points, ...b.points].map((p) => p.point).sort((x, y) => x - y);
    expect(all.slice(0, a.allocations + 1)).toEqual(Array.from({ length: a.allocations + 1 }, (_, i) => i));
  });

  test('usage errors name the option', async () => {
    const shard = await cli(['sweep', '--shard', '2/2', '--', 'true']);
    expect(shard.status).toBe(2);
    expect(shard.err).toContain('Expected I/N with 0 <= I < N for --shard but received "2/2"');
    const jobs = await cli(['sweep', '--jobs', '0', '--', 'true']);
    expect(jobs.err).toContain('Expected a positive integer for --jobs but received "0"');
    const missing = await cli(['trace', '--out', 'x.txt']);
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('missing -- <command> [args...]');
    const noVulkan = await cli(['sweep', '--', 'true']);
    expect(noVulkan.status).toBe(1);
    expect(noVulkan.err).toContain('made no Vulkan instance through the vkalloc layer');
  });
});

describe(`vkalloc check -- <program> on ${driver}`, () => {
  test('blocks still live after the last vkDestroyInstance are leak violations: non-zero exit, unless allowed', async () => {
    const r = await cli(['check', '--driver', driver, '--json', '--', fixture('faulty'), 'forget']);
    expect(r.status).toBe(1);
    const result = JSON.parse(r.out);
    expect(result.status).toBe(0);
    expect(result.violations.length).toBeGreaterThan(0);
    expect(result.violations.every((v: { kind: string }) => v.kind === 'leak')).toBe(true);
    expect(result.violations[0].detail).toMatch(/block allocated in vk\w+ still live after the last vkDestroyInstance/);
    const allowed = await cli(['check', '--driver', driver, '--allow', 'leak', '--', fixture('faulty'), 'forget']);
    expect(allowed.status).toBe(0);
    expect(allowed.err).toMatch(/No contract violations \(\d+ of allowed kinds\)/);
  });

  test('a correct program on this driver: no violations, the program\'s status', async () => {
    const r = await cli(['check', '--driver', driver, '--allow', 'wrong-thread,outside-command', '--', fixture('compute'), 'null', SHADER]);
    expect(r.err).toMatch(/\d+ callbacks checked/);
    expect(r.status).toBe(0);
  });
});
