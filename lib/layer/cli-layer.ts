// The CLI commands that run any program under the vkalloc layer: trace, sweep (with a
// command after --), check; and diff of two traces. lib/cli/main.ts dispatches here.
import * as fs from 'fs';
import * as os from 'os';
import type { ParseArgsConfig } from 'util';
import { writeHtmlReport } from '../report/html-report';
import { terminalReport } from '../report/terminal-report';
import { formatBytes, table } from '../report/stats-table';
import { loadTrace, Trace } from '../trace/trace';
import { describe } from '../util/is';
import { exitStatusOf, runTraced, TracedRun } from './run';
import { StreamTrace } from '../trace/stream-format';
import { junitReport, PointOutcome, sweepProgram, SweepProgramReport } from './sweep-program';

export const LAYER_USAGE = {
  trace: `Usage: vkalloc trace [--out FILE] [--report FILE] [--driver NAME] [--check] -- <command> [args...]

Runs the command with the vkalloc Vulkan layer, which records every host allocation its
Vulkan driver makes through VkAllocationCallbacks (command, object, scope, thread, size),
then prints a summary (per command, per scope, live at exit, blocks that outlived their
object) on stderr and writes the trace and its HTML report. The exit status is the command's.

Options:
  --out FILE      Where to save the trace (default: vkalloc-trace.txt); read it again with
                  vkalloc report FILE. Other processes it started that used Vulkan: FILE.<pid>
  --report FILE   The HTML report (default: vkalloc-report.html)
  --driver NAME   lavapipe, swiftshader or an ICD .json (default: the loader's choice)
  --check         Also run the contract checks (as vkalloc check does)
  -h, --help      Show this help`,

  sweep: `Usage: vkalloc sweep [--jobs N] [--shard I/N] [--timeout S] [--only CMDS] [--max N]
                     [--driver NAME] [--json | --junit FILE] -- <command> [args...]

The Vulkan CTS's alloc_callback_fail procedure on any program: run N refuses every host
allocation from the Nth on, until a run completes without a refused allocation. Each point
is graceful (the program ended on its own, nothing more live at exit), crash (a signal;
the refused command is named), hang (killed after the timeout) or leak (more blocks live
at exit than without refusals).

Options:
  --jobs N        Points run in parallel (default: the number of CPUs)
  --shard I/N     Run only points P with P % N = I (split one sweep over CI jobs)
  --timeout S     Seconds before a point counts as a hang (default: 5x the unrefused run, at least 10)
  --only CMDS     Comma-separated commands: count and refuse only their allocations
  --max N         Stop after N points
  --driver NAME   lavapipe, swiftshader or an ICD .json
  --json          Print the whole report as JSON
  --junit FILE    Also write JUnit XML (one test case per point)

Exit status: 0 when no point crashed, hung or leaked, 1 otherwise, 2 usage error.
(vkalloc sweep TARGET, without --, sweeps vkalloc's own objects: vkalloc sweep --help.)`,

  check: `Usage: vkalloc check [--driver NAME] [--allow KINDS] [--json] -- <command> [args...]

Runs the command under the vkalloc layer with the contract checks on the driver's
allocation callbacks: the Vulkan CTS's kinds (double-free, free-unknown, realloc-unknown,
realloc-freed, negative-internal-total, invalid-scope, invalid-internal-type,
bad-alignment, realloc-alignment-change, leak) plus wrong-thread and outside-command.

Options:
  --allow KINDS   Comma-separated kinds not to fail on (e.g. outside-command)
  --driver NAME   lavapipe, swiftshader or an ICD .json
  --json          Print the violations as JSON
Exit status: 1 when a violation was found, else the command's own.`,

  diff: `Usage: vkalloc diff A B [--json]

Compares two traces (vkalloc trace, demo or trace.save files) per Vulkan command and per
scope: allocations, bytes allocated and peak live bytes, A then B and the change.`,
};

interface Output { out(text: string): void; err(text: string): void }
type Parse = (args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: number) =>
  { values: Record<string, unknown>; positionals: string[] };
export interface LayerCliDeps {
  parse: Parse;
  usageError: (message: string) => Error;
}

/** Splits `vkalloc x [options] -- command...`; the command is required. */
function splitCommand(args: string[], deps: LayerCliDeps, needCommand = true): { options: string[]; command: string[] } {
  const at = args.indexOf('--');
  const options = at >= 0 ? args.slice(0, at) : args;
  const command = at >= 0 ? args.slice(at + 1) : [];
  if (needCommand && command.length === 0 && !options.includes('--help') && !options.includes('-h')) {
    throw deps.usageError(at >= 0 ? 'missing the command after --' : 'missing -- <command> [args...]');
  }
  return { options, command };
}

function nonEmpty(value: unknown, option: string, deps: LayerCliDeps): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw deps.usageError(`option ${option} needs a file name`);
  return value as string;
}

/** Runs the child with Ctrl-C going to it alone: vkalloc waits and reports. */
async function runInForeground(command: string[], layer: Parameters<typeof runTraced>[1]): Promise<TracedRun> {
  const ignore = () => {};
  process.on('SIGINT', ignore);
  try {
    return await runTraced(command, layer, { stdio: 'inherit' });
  } finally {
    process.off('SIGINT', ignore);
  }
}

function howItEnded(t: TracedRun): string {
  const r = t.run;
  if (r.signal) return `was killed by ${r.signal}`;
  return `exited with status ${r.status}`;
}

// ---- trace ----

export async function traceCommand(args: string[], output: Output, deps: LayerCliDeps): Promise<number> {
  const { options, command } = splitCommand(args, deps);
  const { values } = deps.parse(options, {
    out: { type: 'string' }, report: { type: 'string' }, driver: { type: 'string' }, check: { type: 'boolean' },
  }, 0);
  if (values.help) {
    output.out(LAYER_USAGE.trace);
    return 0;
  }
  const outPath = nonEmpty(values.out, '--out', deps) ?? 'vkalloc-trace.txt';
  const reportPath = nonEmpty(values.report, '--report', deps) ?? 'vkalloc-report.html';
  const traced = await runInForeground(command, { driver: values.driver as string | undefined, check: values.check === true });
  try {
    const status = exitStatusOf(traced.run);
    if (!traced.trace || !traced.tracePath) {
      output.err(`vkalloc trace: ${command[0]} ${howItEnded(traced)} without creating a Vulkan instance through the layer: no trace`);
      return status;
    }
    fs.copyFileSync(traced.tracePath, outPath);
    for (const c of traced.children) fs.copyFileSync(c.path, `${outPath}.${c.pid}`);
    const trace = new Trace(traced.trace.data);
    const program = String(trace.meta.program ?? command[0]);
    writeHtmlReport(trace, reportPath, { title: `vkalloc trace: ${program}`, topObjects: 20 });
    output.err(['', `vkalloc trace: ${program} ${howItEnded(traced)}.`, '', terminalReport(trace, { topObjects: 10, maxBlocks: 20 }),
      exitSummary(traced.trace, trace),
      ...(traced.trace.violations.length ? ['', violationTable(traced.trace.violations)] : []),
      `Trace: ${outPath} (${trace.count} events)${traced.children.length ? `, and ${traced.children.map((c) => `${outPath}.${c.pid}`).join(', ')} for the processes it started` : ''}. ` +
      `Report: ${reportPath}. Again in the terminal: vkalloc report ${outPath}`].join('\n'));
    return status;
  } finally {
    fs.rmSync(traced.dir, { recursive: true, force: true });
  }
}

function exitSummary(stream: StreamTrace, trace: Trace): string {
  const leaks = trace.leaks();
  const lines: string[] = [];
  if (stream.exit) {
    lines.push(`Live at exit: ${stream.exit.liveCount} blocks, ${formatBytes(stream.exit.liveBytes)}` +
      `${stream.exit.liveCount ? ' (the program did not destroy everything it created)' : ''}.`);
  } else {
    lines.push('The program did not exit normally: the trace ends at its last callback.');
  }
  lines.push(`Blocks that outlived their object or command: ${leaks.length}${leaks.length ? ` (${formatBytes(leaks.reduce((a, l) => a + l.size, 0))}, see Leaks)` : ''}.`);
  lines.push(`Host allocations the driver made through the layer: ${trace.summary().calls.allocate}; ` +
    'the loader\'s own (above the layer) and the driver\'s plain malloc calls are not seen.');
  return lines.join('\n');
}

function violationTable(violations: StreamTrace['violations']): string {
  const groups = new Map<string, { kind: string; command: string; count: number; detail: string }>();
  for (const v of violations) {
    const key = `${v.kind}\0${v.command}`;
    const g = groups.get(key) ?? { kind: v.kind, command: v.command, count: 0, detail: v.detail };
    g.count++;
    groups.set(key, g);
  }
  return `Contract violations (${violations.length})\n\n` +
    table(['kind', 'during', 'count', 'first'], [...groups.values()].map((g) => [g.kind, g.command, g.count, g.detail.slice(0, 80)]));
}

// ---- check ----

export async function checkCommand(args: string[], output: Output, deps: LayerCliDeps): Promise<number> {
  const { options, command } = splitCommand(args, deps);
  const { values } = deps.parse(options, { driver: { type: 'string' }, allow: { type: 'string' }, json: { type: 'boolean' } }, 0);
  if (values.help) {
    output.out(LAYER_USAGE.check);
    return 0;
  }
  const allow = new Set(((values.allow as string | undefined) ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const traced = await runInForeground(command, { driver: values.driver as string | undefined, check: true });
  try {
    const status = exitStatusOf(traced.run);
    if (!traced.trace) {
      output.err(`vkalloc check: ${command[0]} ${howItEnded(traced)} without creating a Vulkan instance through the layer: nothing checked`);
      return status || 1;
    }
    const found = traced.trace.violations.filter((v) => !allow.has(v.kind));
    const allowed = traced.trace.violations.length - found.length;
    const calls = new Trace(traced.trace.data).summary().calls;
    if (values.json) {
      output.out(JSON.stringify({ status: traced.run.status, signal: traced.run.signal, callbacks: calls, violations: found, allowed }, null, 2));
    } else {
      output.err(`\nvkalloc check: ${command[0]} ${howItEnded(traced)}; ${calls.allocate + calls.reallocate + calls.free} callbacks checked` +
        `${traced.trace.exit ? '' : ' (the program did not exit normally: checked up to its last callback)'}.`);
      output.err(found.length ? violationTable(found) : `No contract violations${allowed ? ` (${allowed} of allowed kinds)` : ''}.`);
    }
    return found.length ? 1 : status;
  } finally {
    fs.rmSync(traced.dir, { recursive: true, force: true });
  }
}

// ---- sweep ----

export async function sweepProgramCommand(args: string[], output: Output, deps: LayerCliDeps): Promise<number> {
  const { options, command } = splitCommand(args, deps);
  const { values } = deps.parse(options, {
    jobs: { type: 'string' }, shard: { type: 'string' }, timeout: { type: 'string' }, only: { type: 'string' },
    max: { type: 'string' }, driver: { type: 'string' }, json: { type: 'boolean' }, junit: { type: 'string' },
  }, 0);
  if (values.help) {
    output.out(LAYER_USAGE.sweep);
    return 0;
  }
  const positive = (name: string, v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw deps.usageError(`Expected a positive integer for --${name} but received ${describe(v)}`);
    return n;
  };
  const jobs = positive('jobs', values.jobs) ?? os.cpus().length;
  const max = positive('max', values.max);
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (!(s > 0)) throw deps.usageError(`Expected a positive number of seconds for --timeout but received ${describe(values.timeout)}`);
    timeoutMs = Math.round(s * 1000);
  }
  let shard = { index: 0, count: 1 };
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(String(values.shard));
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
      throw deps.usageError(`Expected I/N with 0 <= I < N for --shard but received ${describe(values.shard)}`);
    }
    shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  const junit = nonEmpty(values.junit, '--junit', deps);
  const only = values.only === undefined ? undefined : String(values.only).split(',').map((s) => s.trim()).filter(Boolean);
  const tty = !values.json && process.stderr.isTTY;
  const report = await sweepProgram(command, {
    jobs, shard, timeoutMs, failOnly: only, driver: values.driver as string | undefined, maxPoints: max,
    onPoint: (p) => {
      if (values.json) return;
      if (tty) process.stderr.write(`\rpoint ${p.point}: ${p.outcome.padEnd(9)}`);
      else if (p.outcome !== 'graceful' || p.point % 100 === 0) output.err(`point ${p.point}: ${p.outcome}${p.refusedCommand ? ` (refused in ${p.refusedCommand})` : ''}`);
    },
  });
  if (tty) process.stderr.write('\n');
  if (junit) fs.writeFileSync(junit, junitReport(report));
  output.out(values.json ? JSON.stringify(report, null, 2) : sweepSummary(report));
  const t = report.totals;
  return t.crash + t.hang + t.leak === 0 ? 0 : 1;
}

function sweepSummary(r: SweepProgramReport): string {
  const t = r.totals;
  const shard = r.shard.count > 1 ? ` (shard ${r.shard.index}/${r.shard.count})` : '';
  const lines = [
    `sweep ${r.command.join(' ')}${shard}: ${r.points.length} points over ${r.allocations} host allocations; ` +
      (r.finished ? 'a run completed without refusals' : 'stopped before a run completed without refusals (--max)'),
    '',
    table(['outcome', 'points'], (['graceful', 'crash', 'hang', 'leak', 'complete'] as PointOutcome[]).map((o) => [o, t[o]])),
  ];
  const bad = r.points.filter((p) => p.outcome === 'crash' || p.outcome === 'hang' || p.outcome === 'leak');
  if (bad.length) {
    lines.push('', 'Findings:', '', table(['point', 'outcome', 'refused in', 'ended in', 'live at exit', 'detail'], bad.slice(0, 50).map((p) => [
      p.point, p.outcome === 'crash' ? `crash (${p.signal})` : p.outcome, p.refusedCommand ?? '-', p.lastCommand ?? '-',
      p.liveAtExit === null ? '?' : `${p.liveAtExit} / ${formatBytes(p.liveBytesAtExit ?? 0)}`, p.message.split('\n').pop()!.slice(0, 60)])));
    if (bad.length > 50) lines.push(`(${bad.length - 50} more)`);
  }
  return lines.join('\n');
}

// ---- diff ----

export function diffCommand(args: string[], output: Output, deps: LayerCliDeps): number {
  const { values, positionals } = deps.parse(args, { json: { type: 'boolean' } }, 2);
  if (values.help) {
    output.out(LAYER_USAGE.diff);
    return 0;
  }
  if (positionals.length < 2) throw deps.usageError(`expected two trace files A and B but received ${positionals.length}`);
  const [a, b] = positionals.map((p) => loadTrace(p).summary());
  const names = [...new Set([...a.commands.map((c) => c.command), ...b.commands.map((c) => c.command)])];
  const byName = (s: typeof a, n: string) => s.commands.find((c) => c.command === n);
  const commands = names.map((command) => {
    const x = byName(a, command), y = byName(b, command);
    const pick = (c: typeof x) => ({ allocations: c?.allocations ?? 0, bytes: c?.bytesAllocated ?? 0, peak: c?.peakLiveBytes ?? 0 });
    return { command, a: pick(x), b: pick(y) };
  });
  const scopes = Object.values(a.scopes).map((s) => {
    const y = b.scopes[s.scope];
    return { scope: s.scope, a: { allocations: s.allocations, bytes: s.bytesAllocated, peak: s.peakLiveBytes },
      b: { allocations: y.allocations, bytes: y.bytesAllocated, peak: y.peakLiveBytes } };
  });
  const totals = { a: { allocations: a.calls.allocate, bytes: a.bytesAllocated, peak: a.peakLiveBytes },
    b: { allocations: b.calls.allocate, bytes: b.bytesAllocated, peak: b.peakLiveBytes } };
  if (values.json) {
    output.out(JSON.stringify({ a: positionals[0], b: positionals[1], totals, commands, scopes }, null, 2));
    return 0;
  }
  const signed = (n: number, f: (n: number) => string = String) => (n > 0 ? `+${f(n)}` : n < 0 ? `-${f(-n)}` : '0');
  const row = (name: string, x: typeof totals.a, y: typeof totals.a) => [name,
    x.allocations, y.allocations, signed(y.allocations - x.allocations),
    formatBytes(x.bytes), formatBytes(y.bytes), signed(y.bytes - x.bytes, formatBytes),
    formatBytes(x.peak), formatBytes(y.peak), signed(y.peak - x.peak, formatBytes)];
  const header = (first: string) => [first, 'allocs A', 'allocs B', 'change', 'bytes A', 'bytes B', 'change', 'peak A', 'peak B', 'change'];
  output.out([`A: ${positionals[0]}`, `B: ${positionals[1]}`, '',
    table(header('total'), [row('all', totals.a, totals.b)]), '',
    'Per Vulkan command', '', table(header('command'), commands.map((c) => row(c.command, c.a, c.b))), '',
    'Per scope', '', table(header('scope'), scopes.map((s) => row(s.scope, s.a, s.b)))].join('\n'));
  return 0;
}
