// The `vkalloc` command: subcommands, help, exit status (0 ok, 1 failure, 2 usage) and
// error messages, run in-process through main(); one run of the built dist/cli.js.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main } from '../../lib/cli/main';
import { findLavapipe } from '../../lib/vulkan/driver';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { loadTrace, Trace } from '../../lib/trace/trace';
import { sampleAppTrace, TraceBuilder } from '../helpers/synthetic-trace';

const ROOT = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const traceFile = path.join(tmp, 'sample.json');
new Trace(sampleAppTrace().data).save(traceFile);

function run(...argv: string[]) {
  let stdout = '', stderr = '';
  const status = main(argv, { out: (t) => { stdout += t + '\n'; }, err: (t) => { stderr += t + '\n'; } });
  // Getters: sweep writes after its promise settles.
  return { status, get stdout() { return stdout; }, get stderr() { return stderr; } };
}

describe('help and version', () => {
  test.each([[['--help']], [['-h']]])('%j prints the usage and the commands', (argv) => {
    const r = run(...argv);
    expect(r).toMatchObject({ status: EXIT_OK, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: vkalloc <command> \[options\]/);
    for (const command of ['demo', 'report', 'info']) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  test.each(['demo', 'report', 'info', 'sweep'])('%s --help prints that command\'s usage', async (command) => {
    for (const flag of ['--help', '-h']) {
      const r = run(command, flag);
      expect(await r.status).toBe(EXIT_OK);
      expect(r.stdout).toMatch(new RegExp(`^Usage: vkalloc ${command}`));
    }
  });

  test('--version prints package.json\'s version', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(run('--version')).toMatchObject({ status: EXIT_OK, stdout: `${version}\n` });
    expect(run('-v').stdout).toBe(`${version}\n`);
  });
});

describe('usage errors exit 2, say what was wrong, and show the usage', () => {
  // Refused before any file is read, so trace.json need not exist.
  const cases: [string[], string, string][] = [
    [[], 'vkalloc: missing command', 'Usage: vkalloc <command>'],
    [['frobnicate'], 'vkalloc: unknown command "frobnicate": expected demo, report, info, sweep, trace, check or diff', 'Usage: vkalloc <command>'],
    [['--bogus'], 'vkalloc: unknown option --bogus', 'Usage: vkalloc <command>'],
    [['report'], 'vkalloc report: missing the trace FILE to report on', 'Usage: vkalloc report FILE'],
    [['report', 'trace.json', 'other.json'], 'vkalloc report: unexpected argument "other.json"', 'Usage: vkalloc report FILE'],
    [['report', 'trace.json', '--bogus'], 'vkalloc report: unknown option --bogus', 'Usage: vkalloc report FILE'],
    [['report', 'trace.json', '--html'], 'vkalloc report: option --html needs a value', 'Usage: vkalloc report FILE'],
    [['report', 'trace.json', '--top', 'lots'], 'vkalloc report: Expected a positive integer for --top but received "lots"', 'Usage: vkalloc report FILE'],
    [['report', 'trace.json', '--top', '0'], 'vkalloc report: Expected a positive integer for --top but received "0"', 'Usage: vkalloc report FILE'],
    [['report', 'trace.json', '--perfetto'], 'vkalloc report: option --perfetto needs a value', 'Usage: vkalloc report FILE'],
    [['report', 'trace.json', '--perfetto', ''], 'vkalloc report: option --perfetto needs a file name', 'Usage: vkalloc report FILE'],
    [['report', 'trace.json', '--chrome', 'out', '--perfetto', './out'],
      'vkalloc report: Expected a file of its own for --chrome but received "out", the file of --perfetto', 'Usage: vkalloc report FILE'],
    [['info', 'extra'], 'vkalloc info: unexpected argument "extra"', 'Usage: vkalloc info'],
    [['demo', '--driver', 'nvidia'], 'vkalloc demo: bad --driver: Expected \'auto\', \'lavapipe\', \'swiftshader\' or a path to an ICD .json for driver but received "nvidia"', 'Usage: vkalloc demo'],
    [['demo', '--trace', ''], 'vkalloc demo: option --trace needs a file name', 'Usage: vkalloc demo'],
    [['demo', '--bogus'], 'vkalloc demo: unknown option --bogus', 'Usage: vkalloc demo'],
    [['info', '--json=yes'], 'vkalloc info: option --json does not take a value', 'Usage: vkalloc info'],
    [['sweep'], 'vkalloc sweep: missing TARGET', 'Usage: vkalloc sweep TARGET'],
    [['sweep', 'buffer', '--driver', 'nonsense'], 'vkalloc sweep: bad --driver: Expected \'auto\', \'lavapipe\', \'swiftshader\' or a path to an ICD .json for driver but received "nonsense"', 'Usage: vkalloc sweep TARGET'],
    [['sweep', 'buffer', '--timeout', '0'], 'vkalloc sweep: --timeout needs a positive number of seconds, not "0"', 'Usage: vkalloc sweep TARGET'],
    [['sweep', 'buffer', '--timeout', 'soon'], 'vkalloc sweep: --timeout needs a positive number of seconds, not "soon"', 'Usage: vkalloc sweep TARGET'],
    [['sweep', 'buffer', '--max', 'many'], 'vkalloc sweep: --max needs a positive integer, not "many"', 'Usage: vkalloc sweep TARGET'],
    [['sweep', 'buffer', '--jobs', '0'], 'vkalloc sweep: --jobs needs a positive integer (how many child processes), not "0"', 'Usage: vkalloc sweep TARGET'],
    [['sweep', 'buffer', '--jobs', 'abc'], 'vkalloc sweep: --jobs needs a positive integer (how many child processes), not "abc"', 'Usage: vkalloc sweep TARGET'],
    [['sweep', 'buffer', 'fence'], 'vkalloc sweep: unexpected argument "fence"', 'Usage: vkalloc sweep TARGET'],
    [['sweep', 'buffer', '--bogus'], 'vkalloc sweep: unknown option --bogus', 'Usage: vkalloc sweep TARGET'],
  ];
  test('every command has usage errors here', () => {
    expect(new Set(cases.map(([argv]) => argv[0] ?? '')).size).toBe(['', 'frobnicate', '--bogus', 'demo', 'report', 'info', 'sweep'].length);
  });
  test.each(cases)('vkalloc %j', async (argv, message, usage) => {
    const r = run(...argv);
    const status = await r.status;
    expect({ status, stdout: r.stdout }).toEqual({ status: EXIT_USAGE, stdout: '' });
    expect(r.stderr.split('\n')[0]).toBe(message);
    expect(r.stderr).toContain(`\n\n${usage}`);
  });
});

describe('report', () => {
  test('prints aligned tables by default', () => {
    const r = run('report', traceFile);
    expect(r).toMatchObject({ status: EXIT_OK, stderr: '' });
    expect(r.stdout).toContain('allocated 17.4 KiB - freed 15.6 KiB = live 1.9 KiB in 6 blocks');
    expect(r.stdout).toContain('warning: 4 leaked blocks (1.1 KiB)');
    // Each table: header, rule and rows all one width (columns padded), numbers right-aligned.
    const commands = r.stdout.split('Host allocations per Vulkan command\n\n')[1].split('\n\n')[0].split('\n');
    expect(commands[0]).toMatch(/^command +runs +allocs +reallocs +frees +failures +allocated +freed +peak live +time$/);
    expect(commands).toHaveLength(2 + 9);
    expect(new Set(commands.map((line) => line.length)).size).toBe(1);
    expect(commands).toContainEqual(expect.stringMatching(/^vkCreateBuffer +3 +4 +0 +0 +1 +676 B +0 B +15\.1 KiB +0\.008 ms$/));
    expect(r.stdout).toMatch(/^outlived its command +vkCreateBuffer +Buffer #3 +command +64 B +0x[0-9a-f]+ .* never +at leaky \(app\.js:10:5\)$/m);
  });

  test('--top limits the object rows', () => {
    const r = run('report', traceFile, '--top', '2');
    expect(r.stdout).toContain('Vulkan objects by peak bytes held (top 2)');
    expect(r.stdout).toContain('(3 more objects not shown)');
  });

  test('--json prints the summary, leaks and still-live blocks, and nothing else on stdout', () => {
    const r = run('report', traceFile, '--json');
    expect(r.status).toBe(EXIT_OK);
    const json = JSON.parse(r.stdout);
    expect(json.summary).toMatchObject({ bytesAllocated: 17845, bytesFreed: 15944, liveBytes: 1901 });
    expect(json.leaks).toHaveLength(4);
    expect(json.stillLive).toHaveLength(2);
    expect(json.meta).toEqual({ driver: 'synthetic', device: 'test device' });
  });

  test('a hostile trace cannot drive the terminal: control characters come out escaped, in tables, JSON and errors', () => {
    // Retitle the window (OSC), clear the screen (CSI), a one-byte C1 CSI, a right-to-left override, a newline.
    const evil = '\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\nline';
    const b = new TraceBuilder({ driver: `d${evil}` });
    b.begin(`vkCreateInstance${evil}`);
    b.create(`Instance${evil}`);
    b.allocate(64, 'instance');
    b.end();
    b.begin(`vkCmd${evil}`, 0, `at app${evil}`);
    b.allocate(32, 'command');
    b.end();
    const file = path.join(tmp, 'hostile.json');
    new Trace(b.build()).save(file);
    const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
    const escaped = '\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil\\x0aline';

    const text = run('report', file);
    expect(text.status).toBe(EXIT_OK);
    expect(text.stdout).not.toMatch(raw);
    expect(text.stdout).toContain(`driver: d${escaped}`);
    expect(text.stdout).toContain(`vkCmd${escaped}`);
    expect(text.stdout).toContain(`at app${escaped}`);
    expect(text.stdout).toContain(`Instance${escaped} #1`);

    const json = run('report', file, '--json');
    expect(json.stdout).not.toMatch(raw);
    expect(JSON.parse(json.stdout).meta.driver).toBe(`d${evil}`);  // the same JSON, only escaped

    const foreign = path.join(tmp, 'hostile-format.json');
    fs.writeFileSync(foreign, JSON.stringify({ format: evil }));
    const error = run('report', foreign);
    expect(error.status).toBe(EXIT_FAILURE);
    expect(error.stderr).not.toMatch(raw);
    expect(error.stderr).toContain('\\u001b]0;pwned\\u0007\\u001b[2J\\x9b31m\\u202eevil');
  });

  test('--html writes the report, --chrome the Chrome trace', () => {
    const html = path.join(tmp, 'out.html');
    const chrome = path.join(tmp, 'out.chrome.json');
    const r = run('report', traceFile, '--html', html, '--chrome', chrome);
    expect(r.status).toBe(EXIT_OK);
    expect(r.stdout).toMatch(new RegExp(`^Wrote ${html.replace(/[.]/g, '\\.')} \\(\\d+\\.\\d KiB\\)$`, 'm'));
    expect(fs.readFileSync(html, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(JSON.parse(fs.readFileSync(chrome, 'utf8')).displayTimeUnit).toBe('ns');
  });

  test('--perfetto writes the Perfetto trace: packets (field 1 of Trace, length-delimited) naming the process', () => {
    const out = path.join(tmp, 'out.perfetto-trace');
    const r = run('report', traceFile, '--json', '--perfetto', out);
    expect(r.status).toBe(EXIT_OK);
    expect(r.stderr).toMatch(new RegExp(`^Wrote ${out.replace(/[.]/g, '\\.')} \\(\\d+\\.\\d KiB\\): open it in ui\\.perfetto\\.dev$`, 'm'));
    expect(JSON.parse(r.stdout).meta.driver).toBe('synthetic');  // stdout still only the JSON
    const bytes = fs.readFileSync(out);
    expect(bytes[0]).toBe((1 << 3) | 2);
    expect(bytes.includes(Buffer.from('vkalloc (synthetic)'))).toBe(true);
  });

  test('tables are printed only when no output is asked for', () => {
    const out = path.join(tmp, 'only.perfetto-trace');
    const r = run('report', traceFile, '--perfetto', out);
    expect(r.status).toBe(EXIT_OK);
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^Wrote .*only\.perfetto-trace/)]);
    expect(run('report', traceFile).stdout).toMatch(/vkCreateInstance/);
  });

  test('a missing or foreign file is a failure (exit 1) that names it', () => {
    const missing = run('report', path.join(tmp, 'missing.json'));
    expect(missing).toMatchObject({ status: EXIT_FAILURE, stdout: '' });
    expect(missing.stderr).toBe(`vkalloc report: Cannot read trace file ${path.join(tmp, 'missing.json')}: no such file\n`);
    const foreign = path.join(tmp, 'foreign.json');
    fs.writeFileSync(foreign, JSON.stringify({ traceEvents: [] }));
    expect(run('report', foreign).stderr).toBe(
      `vkalloc report: ${foreign} is not a vkalloc trace: expected "format": "vkalloc-trace" but found undefined\n`);
  });

  test('an unwritable output is a failure', () => {
    const r = run('report', traceFile, '--html', path.join(tmp, 'no', 'such', 'dir', 'r.html'));
    expect(r.status).toBe(EXIT_FAILURE);
    expect(r.stderr).toMatch(/^vkalloc report: ENOENT: no such file or directory/);
  });
});

const lavapipe = findLavapipe() ? test : test.skip;

describe('info', () => {
  lavapipe('shows the loader, the drivers with their devices, and the layers', () => {
    const r = run('info');
    expect(r.status).toBe(EXIT_OK);
    expect(r.stdout).toMatch(/^Vulkan loader: \S+, instance version 1\.\d+\.\d+$/m);
    expect(r.stdout).toContain(findLavapipe()!);
    expect(r.stdout).toMatch(/^ {2}device: llvmpipe .*, cpu, Vulkan 1\.\d+\.\d+, driver llvmpipe/m);
    expect(r.stdout).toContain('Instance layers');
  });

  lavapipe('--json', () => {
    const json = JSON.parse(run('info', '--json').stdout);
    expect(json.loader.found).toBe(true);
    const lvp = json.drivers.find((d: { manifest: string }) => d.manifest === findLavapipe());
    expect(lvp.devices[0]).toMatchObject({ type: 'cpu', driverName: 'llvmpipe' });
  });
});

describe('demo', () => {
  const tracing = typeof (HostAllocator.prototype as { startTrace?: unknown }).startTrace === 'function';

  lavapipe('runs on lavapipe, prints its tables, and writes the trace and report it names', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const trace = path.join(tmp, 'demo-trace.json');
    const html = path.join(tmp, 'demo-report.html');
    let r, printed;
    try {
      r = run('demo', '--driver', 'lavapipe', '--trace', trace, '--html', html);
      printed = log.mock.calls.map((c) => c.join(' ')).join('\n');
    } finally {
      log.mockRestore();
    }
    expect(printed).toMatch(/^Driver: llvmpipe/);
    expect(printed).toContain('0 blocks live');
    expect(r.status).toBe(EXIT_OK);
    if (!tracing) {
      expect(r.stderr).toContain('cannot record traces');
      return;
    }
    expect(r.stdout).toContain(`Trace: ${trace} (`);
    const loaded = loadTrace(trace);
    expect(loaded.summary().liveBytes).toBe(0);
    expect(fs.readFileSync(html, 'utf8')).toContain('vkCreateInstance');
    expect(run('report', trace).status).toBe(EXIT_OK);
  });

  test('a driver that is not installed is a failure, not a usage error', () => {
    const r = run('demo', '--driver', path.join(tmp, 'absent_icd.json'));
    expect(r).toMatchObject({ status: EXIT_FAILURE, stdout: '' });
    expect(r.stderr).toBe(`vkalloc demo: The ICD manifest given as driver does not exist: ${path.join(tmp, 'absent_icd.json')}\n`);
  });
});

describe('the built command, dist/cli/main.js', () => {
  const cli = path.join(ROOT, 'dist', 'cli', 'main.js');

  test('starts with a node shebang and keeps the exit status', () => {
    if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: build it with npx tsc -p tsconfig.build.json (npm test does)`);
    expect(fs.readFileSync(cli, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const ok = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
    expect(ok).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    const bad = spawnSync(process.execPath, [cli, 'report'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^vkalloc report: missing the trace FILE/);
    const report = spawnSync(process.execPath, [cli, 'report', traceFile], { encoding: 'utf8' });
    expect(report.status).toBe(0);
    expect(report.stdout).toContain('Host allocations per Vulkan command');
  });
});

describe('vkalloc sweep', () => {
  test('sweeps a target, prints the summary, exit 0 when every point is clean', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const status = await main(['sweep', 'buffer'], { out: (t) => out.push(t), err: (t) => err.push(t) });
    expect(status).toBe(0);
    expect(out.join('\n')).toMatch(/sweep buffer on lavapipe: 2 points, creation succeeded at point 1/);
    expect(out.join('\n')).toMatch(/VK_ERROR_OUT_OF_HOST_MEMORY, nothing live\s+1/);
  });

  test('--json gives the whole report; bad input is a usage error', async () => {
    const out: string[] = [];
    expect(await main(['sweep', 'fence', '--json'], { out: (t) => out.push(t), err: () => {} })).toBe(0);
    expect(JSON.parse(out.join('')).totals).toMatchObject({ crashes: 0, leaky: 0, succeededAt: 1 });
    const err: string[] = [];
    expect(await main(['sweep', 'pipelines'], { out: () => {}, err: (t) => err.push(t) })).toBe(2);
    expect(err.join('')).toContain('unknown TARGET "pipelines"');
    expect(await main(['sweep', 'fence', '--max', '0'], { out: () => {}, err: () => {} })).toBe(2);
  });

  test('--jobs 2 prints the report of --jobs 1', async () => {
    const json = async (jobs: string) => {
      const out: string[] = [];
      expect(await main(['sweep', 'instance', '--max', '30', '--jobs', jobs, '--json'], { out: (t) => out.push(t), err: () => {} })).toBe(0);
      return out.join('');
    };
    const one = await json('1');
    expect(JSON.parse(one).points).toHaveLength(30);
    expect(await json('2')).toBe(one);
  }, 60000);
});
