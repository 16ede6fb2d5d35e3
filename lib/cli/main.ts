#!/usr/bin/env node
// `vkalloc`, the command line: demo, report, info. Exit status 0 on success, 1 when the
// work fails (Vulkan, files), 2 for a usage error (unknown command or option, missing
// or bad argument), which also prints the command's usage.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, ParseArgsConfig } from 'util';
import { SWEEP_USAGE, sweepCommand } from './sweep';
import { checkCommand, diffCommand, LAYER_USAGE, sweepProgramCommand, traceCommand } from '../layer/cli-layer';
import { runDemo } from '../workloads/demo';
import { findSwiftshader, icdSearchDirs, resolveDriver } from '../vulkan/driver';
import { apiVersionString } from '../util/flags';
import { createInstance } from '../vulkan/instance';
import { writeHtmlReport } from '../report/html-report';
import { terminalReport } from '../report/terminal-report';
import { formatBytes, printable, terminalJson } from '../report/stats-table';
import { loadTrace } from '../trace/trace';
import { describe } from '../util/is';
import { instanceLayers, loaderStatus } from '../vulkan/vulkan-info';
import { packagePath } from '../native/paths';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Where the CLI writes (tests pass their own). */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: CliOutput = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
};

const USAGE = {
  main: `Usage: vkalloc <command> [options]

See where a Vulkan driver's host memory goes.

Commands:
  demo     Run the demo on a real driver, then write its allocation trace and HTML report
  report   Report on a saved trace: tables, an HTML page, JSON or a Chrome trace
  info     The Vulkan loader, drivers, devices and layers on this machine
  sweep    Fail allocations at every point while creating an object (the CTS procedure)
  trace    Run any program under the vkalloc layer: its driver's host allocations, traced
  check    Run any program with contract checks on its driver's allocation callbacks
  diff     Compare two traces per command and per scope

Options:
  -h, --help      Show this help (vkalloc <command> --help for a command's own)
  -v, --version   Print vkalloc's version

Exit status: 0 success, 1 failure, 2 usage error.`,

  demo: `Usage: vkalloc demo [--trace FILE] [--html FILE] [--driver NAME]

Creates an instance, a device, buffers, memory and a compute job with vkalloc's TypeScript
allocator policy on a real driver, prints where the host memory went, and saves the
allocation trace and its HTML report.

Options:
  --trace FILE    Where to save the trace (default: trace.json)
  --html FILE     Where to write the HTML report (default: report.html)
  --driver NAME   auto (default), lavapipe, swiftshader, or the path of an ICD .json
  -h, --help      Show this help`,

  report: `Usage: vkalloc report FILE [--html OUT] [--json] [--chrome OUT] [--perfetto OUT] [--top N]

Reports on a trace saved by \`vkalloc demo\` or trace.save(): summaries per Vulkan
command, scope and object, leaks, and blocks still live. Prints tables unless an
output (--html, --json, --chrome, --perfetto) is asked for.

Options:
  --html OUT     Write a self-contained HTML report (chart and tables) to OUT
  --json         Print the summary, leaks and still-live blocks as JSON
  --chrome OUT   Write the Chrome trace-event JSON (open it in ui.perfetto.dev)
  --perfetto OUT Write a Perfetto protobuf trace: the same content, a fraction of
                 the size (open it in ui.perfetto.dev)
  --top N        Objects to list, biggest first (default 20)
  -h, --help     Show this help`,

  sweep: `${SWEEP_USAGE}

${LAYER_USAGE.sweep}`,
  trace: LAYER_USAGE.trace,
  check: LAYER_USAGE.check,
  diff: LAYER_USAGE.diff,

  info: `Usage: vkalloc info [--json]

Shows whether the Vulkan loader was found, the installed drivers (ICD manifests) with
their physical devices, and the instance layers.

Options:
  --json       Print the same as JSON
  -h, --help   Show this help`,
};
type CommandName = Exclude<keyof typeof USAGE, 'main'>;

class UsageError extends Error {
  constructor(message: string, readonly command: keyof typeof USAGE) {
    super(message);
  }
}

/**
 * Runs the command line `argv` (without node and the script); returns the exit status
 * (a promise of it for commands that run child processes, like sweep).
 */
export function main(argv: string[], output: CliOutput = processOutput): number | Promise<number> {
  const [first, ...rest] = argv;
  const fail = (e: unknown): number => {
    if (e instanceof UsageError) {
      const where = e.command === 'main' ? 'vkalloc' : `vkalloc ${e.command}`;
      output.err(`${where}: ${printable(e.message, true)}\n\n${USAGE[e.command]}`);
      return EXIT_USAGE;
    }
    // Not `instanceof Error`: errors from Node's core (fs) may come from another realm.
    const message = typeof (e as Error)?.message === 'string' ? (e as Error).message : String(e);
    // A message may quote a trace file or a script: nothing in it may drive the terminal.
    output.err(`vkalloc${first && first in COMMANDS ? ` ${first}` : ''}: ${printable(message, true)}`);
    return EXIT_FAILURE;
  };
  try {
    if (first === undefined) throw new UsageError('missing command', 'main');
    if (first === '-h' || first === '--help') return done(output, USAGE.main);
    if (first === '-v' || first === '--version') return done(output, version());
    if (first.startsWith('-')) throw new UsageError(`unknown option ${first}`, 'main');
    if (!(first in COMMANDS)) throw new UsageError(`unknown command ${describe(first)}: expected demo, report, info, sweep, trace, check or diff`, 'main');
    const status = COMMANDS[first as CommandName](rest, output);
    return typeof status === 'number' ? status : status.catch(fail);
  } catch (e) {
    return fail(e);
  }
}

const COMMANDS: Record<CommandName, (args: string[], output: CliOutput) => number | Promise<number>> = {
  demo, report, info,
  // With `-- <command>`: any program under the layer (lib/layer/); without: vkalloc's own targets.
  sweep: (args, output) => args.includes('--') ? sweepProgramCommand(args, output, layerDeps('sweep'))
    : sweepCommand(args, output, { parse: (a, o, n) => parse('sweep', a, o, n), usage: USAGE.sweep, UsageError, checkDriver }),
  trace: (args, output) => traceCommand(args, output, layerDeps('trace')),
  check: (args, output) => checkCommand(args, output, layerDeps('check')),
  diff: (args, output) => diffCommand(args, output, layerDeps('diff')),
};

function layerDeps(command: CommandName) {
  return { parse: (a: string[], o: NonNullable<ParseArgsConfig['options']>, n: number) => parse(command, a, o, n),
    usageError: (message: string) => new UsageError(message, command) };
}

function done(output: CliOutput, text: string): number {
  output.out(text);
  return EXIT_OK;
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** parseArgs, with its errors turned into short usage errors. */
function parse<O extends NonNullable<ParseArgsConfig['options']>>(command: CommandName, args: string[], options: O, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${quoted}`, command);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const option = quoted.split(' ')[0];
      throw new UsageError(/does not take/.test(err.message) ? `option ${option} does not take a value` : `option ${option} needs a value`, command);
    }
    throw new UsageError(err.message, command);
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument ${describe(parsed.positionals[positionals])}`, command);
  }
  return parsed;
}

// ---- demo ----

function demo(args: string[], output: CliOutput): number {
  const { values } = parse('demo', args, {
    trace: { type: 'string' }, html: { type: 'string' }, driver: { type: 'string' },
  }, 0);
  if (values.help) return done(output, USAGE.demo);
  const tracePath = nonEmpty(values.trace, '--trace', 'demo') ?? 'trace.json';
  const htmlPath = nonEmpty(values.html, '--html', 'demo') ?? 'report.html';
  const driver = values.driver === undefined ? 'auto' : checkDriver(values.driver as string, 'demo');

  const result = runDemo({ driver, onAllocator: (allocator) => allocator.startTrace() });
  const trace = result.allocator.stopTrace();
  trace.save(tracePath);
  writeHtmlReport(trace, htmlPath, { title: 'vkalloc demo: host memory of a Vulkan driver' });
  output.out(`\nTrace: ${tracePath} (${trace.count} events). Report: ${htmlPath}. ` +
    `See it in the terminal with: vkalloc report ${tracePath}`);
  return result.ok ? EXIT_OK : EXIT_FAILURE;
}

/** A driver name that cannot mean anything is a usage error; one that is not installed, a failure. */
function checkDriver(name: string, command: CommandName): string {
  try {
    resolveDriver(name);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`bad --driver: ${e.message}`, command);
    throw e;
  }
  return name;
}

function nonEmpty(value: unknown, option: string, command: CommandName): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw new UsageError(`option ${option} needs a file name`, command);
  return value as string;
}

// ---- report ----

function report(args: string[], output: CliOutput): number {
  const { values, positionals } = parse('report', args, {
    html: { type: 'string' }, json: { type: 'boolean' }, chrome: { type: 'string' }, perfetto: { type: 'string' }, top: { type: 'string' },
  }, 1);
  if (values.help) return done(output, USAGE.report);
  if (positionals.length === 0) throw new UsageError('missing the trace FILE to report on', 'report');
  const top = values.top === undefined ? 20 : Number(values.top);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(`Expected a positive integer for --top but received ${describe(values.top)}`, 'report');
  const htmlPath = nonEmpty(values.html, '--html', 'report');
  const chromePath = nonEmpty(values.chrome, '--chrome', 'report');
  const perfettoPath = nonEmpty(values.perfetto, '--perfetto', 'report');
  const outputs = [['--html', htmlPath], ['--chrome', chromePath], ['--perfetto', perfettoPath]].filter(([, p]) => p !== undefined);
  for (const [option, file] of outputs) {
    const other = outputs.find(([o, p]) => o !== option && p !== undefined && path.resolve(p) === path.resolve(file!));
    if (other) throw new UsageError(`Expected a file of its own for ${option} but received ${describe(file)}, the file of ${other[0]}`, 'report');
  }

  const trace = loadTrace(positionals[0]);
  // With --json, stdout carries only the JSON.
  const say = values.json ? output.err : output.out;
  if (htmlPath) {
    writeHtmlReport(trace, htmlPath, { topObjects: top, title: `vkalloc trace report: ${path.basename(positionals[0])}` });
    say(`Wrote ${htmlPath} (${formatBytes(fs.statSync(htmlPath).size)})`);
  }
  if (chromePath) {
    trace.writeChromeTrace(chromePath);
    say(`Wrote ${chromePath}: open it in ui.perfetto.dev or chrome://tracing`);
  }
  if (perfettoPath) {
    trace.writePerfettoTrace(perfettoPath);
    say(`Wrote ${perfettoPath} (${formatBytes(fs.statSync(perfettoPath).size)}): open it in ui.perfetto.dev`);
  }
  if (values.json) {
    output.out(terminalJson(JSON.stringify({ meta: trace.meta, summary: trace.summary(), leaks: trace.leaks(), stillLive: trace.stillLive() }, null, 2)));
  } else if (outputs.length === 0) {
    // Only when nothing else was asked for: the tables replay every block, which
    // costs more time and memory than writing the exports themselves.
    output.out(terminalReport(trace, { topObjects: top }));
  }
  return EXIT_OK;
}

// ---- info ----

interface DriverInfo {
  manifest: string;
  library: string | null;
  apiVersion: string | null;
  devices: { name: string; type: string; apiVersion: string; driverName: string | null; driverInfo: string | null; driverVersion: number }[];
  error: string | null;
}

function info(args: string[], output: CliOutput): number {
  const { values } = parse('info', args, { json: { type: 'boolean' } }, 0);
  if (values.help) return done(output, USAGE.info);
  const loader = loaderStatus();
  const drivers = loader.found ? installedDrivers().map(probeDriver) : [];
  const layers = loader.found ? instanceLayers() : [];
  if (values.json) {
    output.out(terminalJson(JSON.stringify({ loader, drivers, layers }, null, 2)));
    return loader.found ? EXIT_OK : EXIT_FAILURE;
  }
  if (!loader.found) {
    output.out(`Vulkan loader: not found (${loader.library}: ${loader.error ?? 'unknown error'}). ` +
      'Install it with: apt-get install libvulkan1 mesa-vulkan-drivers');
    return EXIT_FAILURE;
  }
  const lines = [`Vulkan loader: ${loader.library}, instance version ${loader.instanceVersion ? apiVersionString(loader.instanceVersion) : '1.0'}`];
  lines.push('', 'Drivers (ICD manifests where the loader looks, and SwiftShader where vkalloc finds it)');
  for (const d of drivers) {
    lines.push('', `${d.manifest}`, `  library ${d.library ?? '?'}, ICD API version ${d.apiVersion ?? '?'}`);
    if (d.error) lines.push(`  no devices: ${d.error}`);
    else if (d.devices.length === 0) lines.push('  no devices');
    for (const p of d.devices) {
      lines.push(`  device: ${p.name}, ${p.type}, Vulkan ${p.apiVersion}, driver ${p.driverName ?? '?'}${p.driverInfo ? ` (${p.driverInfo})` : ''}`);
    }
  }
  lines.push('', 'Instance layers', '');
  const width = Math.max(0, ...layers.map((l) => l.name.length));
  lines.push(...(layers.length ? layers.map((l) => `  ${l.name.padEnd(width)}  ${apiVersionString(l.specVersion).padEnd(8)} ${l.description}`) : ['  none']));
  output.out(lines.join('\n'));
  return EXIT_OK;
}

/** ICD manifests where the loader looks, plus SwiftShader where vkalloc finds it. */
function installedDrivers(): string[] {
  const found: string[] = [];
  for (const dir of icdSearchDirs()) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      continue;  // a search directory that does not exist
    }
    found.push(...names.map((n) => path.join(dir, n)));
  }
  const swiftshader = findSwiftshader();
  if (swiftshader && !found.includes(path.resolve(swiftshader))) found.push(path.resolve(swiftshader));
  return found;
}

function probeDriver(manifest: string): DriverInfo {
  const result: DriverInfo = { manifest, library: null, apiVersion: null, devices: [], error: null };
  try {
    const icd = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string; api_version?: string } }).ICD;
    result.library = icd?.library_path ?? null;
    result.apiVersion = icd?.api_version ?? null;
    const instance = createInstance({ applicationName: 'vkalloc info', driver: manifest });
    try {
      result.devices = instance.physicalDevices().map((p) => ({ name: p.name, type: p.type, apiVersion: p.apiVersion,
        driverName: p.driver.name, driverInfo: p.driver.info, driverVersion: p.driverVersion }));
    } finally {
      instance.destroy();
    }
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  }
  return result;
}

if (require.main === module) {
  void Promise.resolve(main(process.argv.slice(2))).then((status) => {
    process.exitCode = status;
  });
}
