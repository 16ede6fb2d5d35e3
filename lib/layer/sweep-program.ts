// `vkalloc sweep -- <command>`: the Vulkan CTS's alloc_callback_fail procedure on an
// unmodified program. Run N refuses every host allocation from the Nth on (the layer's
// VKALLOC_FAIL_FROM); points go on until a run completes without a refused allocation.
// A first run without refusals counts the allocations, which fixes the points 0..count
// in advance, so --shard splits them and --jobs runs them in parallel.
//
// Each point is classified from its exit and its trace:
//   complete  nothing was refused (the end of the sweep)
//   graceful  refused, then the program ended on its own (any exit status or message)
//             with no more blocks live at exit than the unrefused run had
//   crash     a signal ended it (the trace names the refused command and where it died)
//   hang      it ran past the timeout and was killed
//   leak      it ended on its own with more blocks live at exit than the unrefused run
//             (a program that destroys everything: any block live at exit)
import * as fs from 'fs';
import * as os from 'os';
import { RunResult, runTraced, TracedRun } from './run';
import { StreamTrace } from '../trace/stream-format';

export type PointOutcome = 'complete' | 'graceful' | 'crash' | 'hang' | 'leak';

export interface SweepPointResult {
  point: number;
  outcome: PointOutcome;
  status: number | null;
  signal: string | null;
  /** Allocations refused, and the command the first refusal happened in. */
  refused: number;
  refusedCommand: string | null;
  /** The command running on the main thread when the trace ended (crashes). */
  lastCommand: string | null;
  liveAtExit: number | null;
  liveBytesAtExit: number | null;
  /** The last lines of its stderr. */
  message: string;
}

export interface SweepProgramOptions {
  jobs?: number;
  /** This run's part of the points: point % count === index. */
  shard?: { index: number; count: number };
  timeoutMs?: number;
  /** Only allocations during these commands count and are refused. */
  failOnly?: string[];
  driver?: string;
  /** Most points to run (after sharding). */
  maxPoints?: number;
  onPoint?: (p: SweepPointResult) => void;
}

export interface SweepProgramReport {
  command: string[];
  /** Host allocations of the unrefused run that count toward the points. */
  allocations: number;
  /** Blocks live at exit in the unrefused run. */
  baselineLive: number;
  timeoutMs: number;
  shard: { index: number; count: number };
  points: SweepPointResult[];
  totals: Record<PointOutcome, number>;
  /** False when --max stopped the sweep before a run completed. */
  finished: boolean;
}

/** The command running when the trace ended, else (a loop cut by the size limit) the last one begun. */
function lastCommand(trace: StreamTrace | null): string | null {
  if (!trace) return null;
  const d = trace.data;
  const open: string[] = [];
  let last: string | null = null;
  for (let i = 0; i < d.count; i++) {
    if (d.kind[i] === 5) open.push((last = d.commands[d.command[i]]));
    else if (d.kind[i] === 6) open.pop();
  }
  return open.length ? open[open.length - 1] : last;
}

function tail(text: string, lines = 3): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export function classify(point: number, t: TracedRun, baselineLive: number): SweepPointResult {
  const r: RunResult = t.run;
  const trace = t.trace;
  const refused = trace ? trace.refusals.length : 0;
  const live = trace?.exit ? trace.exit.liveCount : null;
  let outcome: PointOutcome;
  if (r.timedOut) outcome = 'hang';
  else if (r.signal) outcome = 'crash';
  else if (refused === 0) outcome = 'complete';
  else if (live !== null && live > baselineLive) outcome = 'leak';
  else outcome = 'graceful';
  return {
    point, outcome, status: r.status, signal: r.signal, refused, refusedCommand: trace?.refusals[0]?.command ?? null,
    lastCommand: outcome === 'crash' || outcome === 'hang' ? lastCommand(trace) : null,
    liveAtExit: live, liveBytesAtExit: trace?.exit ? trace.exit.liveBytes : null, message: tail(r.stderr),
  };
}

async function runPoint(command: string[], point: number | undefined, options: SweepProgramOptions, timeoutMs: number): Promise<TracedRun> {
  // A program that retries a refused allocation in a loop writes fast: 4 MiB tells enough.
  const traced = await runTraced(command, { failFrom: point, failOnly: options.failOnly, driver: options.driver, traceLimit: 4 << 20 },
    { stdio: 'pipe', timeoutMs });
  fs.rmSync(traced.dir, { recursive: true, force: true });
  return traced;
}

export async function sweepProgram(command: string[], options: SweepProgramOptions = {}): Promise<SweepProgramReport> {
  if (command.length === 0) throw new RangeError('Expected a command to sweep but received none');
  const shard = options.shard ?? { index: 0, count: 1 };
  const jobs = Math.max(1, options.jobs ?? os.cpus().length);
  const maxPoints = options.maxPoints ?? 100000;

  // The unrefused run: how many allocations count, how long it takes, what stays live.
  const started = Date.now();
  const base = await runPoint(command, undefined, options, options.timeoutMs ?? 120000);
  const elapsed = Date.now() - started;
  if (base.run.timedOut || base.run.signal) {
    throw new Error(`${command.join(' ')} does not finish without refused allocations (${base.run.timedOut ? 'timed out' : `killed by ${base.run.signal}`}): nothing to sweep`);
  }
  if (!base.trace) throw new Error(`${command.join(' ')} made no Vulkan instance through the vkalloc layer (no trace): nothing to sweep`);
  if (!base.trace.exit) throw new Error(`${command.join(' ')} did not exit normally under the layer (no exit record): nothing to sweep`);
  const allocations = base.trace.exit.counted;
  const baselineLive = base.trace.exit.liveCount;
  const timeoutMs = options.timeoutMs ?? Math.max(10000, elapsed * 5);

  const points: SweepPointResult[] = [];
  const mine = (p: number) => p % shard.count === shard.index;
  let next = 0;
  let planned = 0;
  let finished = false;
  let done = false;
  // Workers take points in order; past `allocations` a point is only run while the ones
  // before it still refused something (a program whose allocations vary between runs).
  const worker = async () => {
    while (!done) {
      while (!mine(next)) next++;
      const p = next++;
      if (planned >= maxPoints) { done = true; break; }
      if (p > allocations && points.some((x) => x.point >= allocations && x.outcome === 'complete')) { done = true; break; }
      planned++;
      const result = classify(p, await runPoint(command, p, options, timeoutMs), baselineLive);
      points.push(result);
      options.onPoint?.(result);
      if (result.outcome === 'complete' && p >= allocations) { finished = true; done = true; }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  points.sort((a, b) => a.point - b.point);
  const totals: Record<PointOutcome, number> = { complete: 0, graceful: 0, crash: 0, hang: 0, leak: 0 };
  for (const p of points) totals[p.outcome]++;
  return { command, allocations, baselineLive, timeoutMs, shard, points, totals, finished };
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML (what CI systems read): one test case per point; crashes, hangs and leaks fail. */
export function junitReport(report: SweepProgramReport): string {
  const name = `vkalloc sweep ${report.command.join(' ')}`;
  const failures = report.totals.crash + report.totals.hang + report.totals.leak;
  const cases = report.points.map((p) => {
    const title = `point ${p.point}${p.refusedCommand ? ` (refused in ${p.refusedCommand})` : ''}`;
    const open = `    <testcase classname="${xml(name)}" name="${xml(title)}">`;
    if (p.outcome === 'complete' || p.outcome === 'graceful') return `${open}</testcase>`;
    const what = p.outcome === 'crash' ? `killed by ${p.signal}${p.lastCommand ? ` in ${p.lastCommand}` : ''}`
      : p.outcome === 'hang' ? `still running after ${report.timeoutMs} ms${p.lastCommand ? ` (in ${p.lastCommand})` : ''}`
        : `${p.liveAtExit} blocks (${p.liveBytesAtExit} bytes) live at exit, ${report.baselineLive} without refusals`;
    return `${open}\n      <failure type="${p.outcome}" message="${xml(what)}">${xml(p.message)}</failure>\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="${xml(name)}" tests="${report.points.length}" failures="${failures}" errors="0">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
