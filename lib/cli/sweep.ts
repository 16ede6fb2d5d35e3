// `vkalloc sweep`: the fault-injection sweep (lib/fault/sweep.ts) from the command line,
// with a progress bar on stderr, a summary table, or JSON for machines.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ParseArgsConfig } from 'util';
import { formatBytes, table, terminalJson } from '../report/stats-table';
import { sweep, SweepReport } from '../fault/sweep';
import { SWEEP_TARGETS } from '../fault/sweep-targets';

export const SWEEP_USAGE = `Usage: vkalloc sweep TARGET [--driver NAME] [--max N] [--jobs N] [--timeout S] [--json]

For N = 0, 1, 2, ... refuses every host allocation from the Nth on while TARGET creates
(and destroys) its object, until creation succeeds: each point must fail with
VK_ERROR_OUT_OF_HOST_MEMORY and leave nothing live. Points run in child processes, so
a driver crash or hang is reported at its point and the sweep goes on.

TARGET: ${Object.keys(SWEEP_TARGETS).join(', ')}, or a .js file whose export
  (default, or module.exports) is a function ({ allocator, driver, vkalloc }) => void
  that creates and destroys objects with \`allocator\`.

Options:
  --driver NAME   lavapipe (default), swiftshader, auto, or the path of an ICD .json
  --max N         Stop after N points (default 5000)
  --jobs N        Child processes running points side by side (default: the number
                  of CPUs, ${os.availableParallelism()} here, but one per 250 points of --max at
                  most); the report is the same for any N
  --timeout S     Seconds a point may take before it counts as a hang (default 60)
  --json          Print the whole report as JSON (no progress bar)

Exit status: 0 when every point was clean, 1 when a point leaked, crashed, hung or
failed otherwise, 2 usage error.`;

interface Output { out(text: string): void; err(text: string): void }
interface Deps {
  parse: (args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: number) =>
    { values: Record<string, unknown>; positionals: string[] };
  usage: string;
  UsageError: new (message: string, command: 'sweep') => Error;
  /** The driver name, or a UsageError when it cannot mean any driver. */
  checkDriver: (name: string, command: 'sweep') => string;
}

export async function sweepCommand(args: string[], output: Output, deps: Deps): Promise<number> {
  const { values, positionals } = deps.parse(args, {
    driver: { type: 'string' }, max: { type: 'string' }, jobs: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' },
  }, 1);
  if (values.help) {
    output.out(deps.usage);
    return 0;
  }
  const name = positionals[0];
  if (name === undefined) throw new deps.UsageError('missing TARGET', 'sweep');
  let target: string | { script: string };
  if (name in SWEEP_TARGETS) {
    target = name;
  } else if (name.endsWith('.js')) {
    if (!fs.existsSync(name)) throw new Error(`no such script: ${path.resolve(name)}`);
    target = { script: path.resolve(name) };
  } else {
    throw new deps.UsageError(`unknown TARGET ${JSON.stringify(name)}: expected ${Object.keys(SWEEP_TARGETS).join(', ')} or a .js file`, 'sweep');
  }
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
    throw new deps.UsageError(`--max needs a positive integer, not ${JSON.stringify(values.max)}`, 'sweep');
  }
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0)) {
    throw new deps.UsageError(`--jobs needs a positive integer (how many child processes), not ${JSON.stringify(values.jobs)}`, 'sweep');
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0 && timeout <= 2 ** 31 / 1000)) {
    throw new deps.UsageError(`--timeout needs a positive number of seconds, not ${JSON.stringify(values.timeout)}`, 'sweep');
  }
  const driver = values.driver === undefined ? undefined : deps.checkDriver(values.driver as string, 'sweep');
  const json = values.json === true;
  const tty = !json && process.stderr.isTTY;
  const report = await sweep(target, {
    driver,
    maxPoints: max,
    jobs,
    timeout,
    onPoint: (p) => {
      if (json) return;
      if (tty) {
        const bar = '#'.repeat(Math.min(30, Math.floor(Math.log2(p.point + 2) * 3)));
        process.stderr.write(`\rpoint ${p.point}: ${p.result.padEnd(28)} ${bar}`);
      } else if (p.point % 100 === 0 || p.result !== 'VK_ERROR_OUT_OF_HOST_MEMORY') {
        output.err(`point ${p.point}: ${p.result}`);
      }
    },
  });
  if (tty) process.stderr.write('\n');
  output.out(json ? terminalJson(JSON.stringify(report, null, 2)) : summary(report));
  const t = report.totals;
  return t.crashes + t.hangs + t.leaky + t.otherErrors === 0 ? 0 : 1;
}

function summary(report: SweepReport): string {
  const t = report.totals;
  const lines = [
    `sweep ${report.target} on ${report.driver}: ${t.points} points, ` +
      (t.succeededAt === null ? 'creation never succeeded' : `creation succeeded at point ${t.succeededAt} (it needs ${t.succeededAt} allocations)`),
    '',
    table(['outcome', 'points'], [
      ['VK_ERROR_OUT_OF_HOST_MEMORY, nothing live', t.cleanOom],
      ['other errors', t.otherErrors],
      ['left blocks live', t.leaky],
      ['crashes', t.crashes],
      ['hangs', t.hangs],
    ]),
  ];
  const bad = report.points.filter((p) => p.live > 0 ||
    (p.result !== 'success' && p.result !== 'VK_ERROR_OUT_OF_HOST_MEMORY'));
  if (bad.length > 0) {
    lines.push('', 'Findings:', '', table(['point', 'result', 'live', 'detail'],
      bad.slice(0, 50).map((p) => [p.point, p.result, `${p.live} / ${formatBytes(p.liveBytes)}`, (p.message ?? '').slice(0, 100)])));
  }
  return lines.join('\n');
}
