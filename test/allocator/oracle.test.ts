// Independent oracle: the allocation-callback calls vkalloc's HostAllocator sees must
// be exactly those a plain C program with malloc-based VkAllocationCallbacks sees
// when it makes the same Vulkan calls on the same driver (lavapipe).
//
//  - test/fixtures/oracle/oracle.c: compiled here with `cc` into a temporary directory; it
//    mirrors, call for call, what native/*.cc does for the scripted sequence.
//  - test/fixtures/oracle/sequence.js: the scripted sequence through the TypeScript API
//    (compiled, dist/), with `new HostAllocator()` (AlignedHeaderPolicy) passed to
//    every create call, in a fresh Node process so nothing this jest process did
//    earlier touches the driver's state.
//
// Both sides run several times: the counts must be the same on every run of a side
// (lavapipe and the loader are deterministic for this sequence), then equal across
// the two sides, with nothing left live at the end.
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findLavapipe, icdSearchDirs } from '../../lib/vulkan/driver';

const ROOT = path.resolve(__dirname, '..', '..');
const ORACLE_SOURCE = path.join(__dirname, '..', 'fixtures', 'oracle', 'oracle.c');
const SEQUENCE = path.join(__dirname, '..', 'fixtures', 'oracle', 'sequence.js');
/** The .ts files below `dir`, as paths relative to it. */
function listTs(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
}
const DIST_INDEX = path.join(ROOT, 'dist', 'index.js');
const RUNS = 3;

const KINDS = ['allocate', 'reallocate', 'free', 'internalAllocate', 'internalFree'] as const;
type Kind = (typeof KINDS)[number];
type Calls = Record<Kind, number>;

interface CommandRow {
  command: string;
  allocations: number;
  reallocations: number;
  frees: number;
}

interface SideResult {
  calls: Calls;
  offThreadCalls: Calls;
  commands: CommandRow[];
  liveCount: number;
  failures: number;
  memoryType: number;
  size: number;
}

function describeRun(what: string, r: SpawnSyncReturns<string>): string {
  const why = r.error ? `could not start: ${r.error.message}` : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
  return `${what} failed (${why})\n--- stdout ---\n${r.stdout ?? ''}\n--- stderr ---\n${(r.stderr ?? '').slice(-4000)}`;
}

/** The one JSON line a side prints on stdout (stderr may carry anyone's diagnostics). */
function parseSide(what: string, r: SpawnSyncReturns<string>): SideResult {
  if (r.error || r.status !== 0) throw new Error(describeRun(what, r));
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${what} printed no JSON line\n${describeRun(what, r)}`);
  return JSON.parse(line) as SideResult;
}

/** Per-command block events, without the rows where nothing happened, keyed by command. */
function commandMap(rows: CommandRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    if (r.allocations === 0 && r.reallocations === 0 && r.frees === 0) continue;
    out[r.command] = `allocations ${r.allocations}, reallocations ${r.reallocations}, frees ${r.frees}`;
  }
  return out;
}

function callsTable(c: SideResult, v: SideResult): string {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const lines = [`${'callback'.padEnd(18)}${pad('C oracle', 10)}${pad('vkalloc', 10)}${pad('C off-thread', 14)}${pad('vkalloc off-thread', 20)}`];
  for (const k of KINDS) {
    lines.push(`${k.padEnd(18)}${pad(c.calls[k], 10)}${pad(v.calls[k], 10)}${pad(c.offThreadCalls[k], 14)}${pad(v.offThreadCalls[k], 20)}`);
  }
  lines.push(`${'liveCount at end'.padEnd(18)}${pad(c.liveCount, 10)}${pad(v.liveCount, 10)}`);
  return lines.join('\n');
}

function commandsTable(c: SideResult, v: SideResult): string {
  const cm = commandMap(c.commands);
  const vm = commandMap(v.commands);
  const names = [...new Set([...c.commands.map((r) => r.command), ...v.commands.map((r) => r.command)])]
    .filter((n) => n in cm || n in vm);
  const width = Math.max(...names.map((n) => n.length), 7) + 2;
  const lines = [`${'command'.padEnd(width)}C oracle (alloc/realloc/free)   vkalloc (alloc/realloc/free)`];
  const cell = (rows: CommandRow[], n: string) => {
    const r = rows.find((x) => x.command === n);
    return r ? `${r.allocations}/${r.reallocations}/${r.frees}` : '-';
  };
  for (const n of names) lines.push(`${n.padEnd(width)}${cell(c.commands, n).padEnd(32)}${cell(v.commands, n)}`);
  return lines.join('\n');
}

describe('oracle: vkalloc sees exactly the allocation callbacks a plain C program sees (lavapipe)', () => {
  let tmp: string;
  let oracle: string;
  let icd: string;
  const cRuns: SideResult[] = [];
  const vkallocRuns: SideResult[] = [];

  beforeAll(() => {
    if (!fs.existsSync(DIST_INDEX)) {
      throw new Error(`${DIST_INDEX} does not exist: the oracle runs the compiled API in a child process. ` +
        'Build it with `npx tsc -p tsconfig.build.json` (or run the suite with `npm test`, whose setup step builds it)');
    }
    // The child runs dist/, so dist/ must be built from the lib/ sources as they are now.
    const stale = listTs(path.join(ROOT, 'lib')).filter((rel) => {
      const js = path.join(ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
      return !fs.existsSync(js) || fs.statSync(path.join(ROOT, 'lib', rel)).mtimeMs > fs.statSync(js).mtimeMs;
    });
    if (stale.length > 0) {
      throw new Error(`dist/ is older than lib/ (${stale.join(', ')}): the oracle would test stale code. ` +
        'Rebuild it with `npx tsc -p tsconfig.build.json` (`npm test` does this in its setup step)');
    }
    const found = findLavapipe();
    if (!found) throw new Error(`lavapipe's ICD manifest (lvp_icd.*.json) was not found in ${icdSearchDirs().join(', ')}`);
    icd = found;

    const probe = spawnSync('cc', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(`The oracle needs a C compiler as \`cc\`, which ${probe.error ? 'is missing' : 'does not run'} ` +
        '(install it with: apt-get install gcc libvulkan-dev)');
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-oracle-'));
    oracle = path.join(tmp, 'oracle');
    const build = spawnSync('cc', ['-std=c11', '-O1', '-Wall', '-o', oracle, ORACLE_SOURCE, '-ldl', '-lpthread'], { encoding: 'utf8' });
    if (build.error || build.status !== 0) {
      throw new Error(`${describeRun(`cc ${ORACLE_SOURCE}`, build)}\n(the oracle needs vulkan/vulkan.h: apt-get install libvulkan-dev)`);
    }

    // The same environment for both sides; each sets the driver variables only
    // around vkCreateInstance and restores them.
    const env = { ...process.env };
    for (let i = 0; i < RUNS; i++) {
      cRuns.push(parseSide('the C oracle', spawnSync(oracle, [icd], { encoding: 'utf8', env, timeout: 30000 })));
      vkallocRuns.push(parseSide('the vkalloc sequence',
        spawnSync(process.execPath, [SEQUENCE, DIST_INDEX], { encoding: 'utf8', env, timeout: 30000 })));
    }
    console.log(`Oracle on ${icd}, ${RUNS} runs per side.\n` +
      `C oracle runs (allocate/reallocate/free/internalAllocate/internalFree): ${cRuns.map((r) => KINDS.map((k) => r.calls[k]).join('/')).join(', ')}\n` +
      `vkalloc runs  (allocate/reallocate/free/internalAllocate/internalFree): ${vkallocRuns.map((r) => KINDS.map((k) => r.calls[k]).join('/')).join(', ')}\n\n` +
      `${callsTable(cRuns[0], vkallocRuns[0])}\n\n${commandsTable(cRuns[0], vkallocRuns[0])}`);
  });

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('gets the same counts on every run of each side', () => {
    const first = { calls: cRuns[0].calls, commands: commandMap(cRuns[0].commands) };
    for (const r of cRuns.slice(1)) expect({ calls: r.calls, commands: commandMap(r.commands) }).toEqual(first);
    for (const r of vkallocRuns.slice(1)) {
      expect({ calls: r.calls, commands: commandMap(r.commands) }).toEqual({ calls: vkallocRuns[0].calls, commands: commandMap(vkallocRuns[0].commands) });
    }
  });

  it('both sides ran the same sequence to the end (same memory type and size)', () => {
    expect({ memoryType: vkallocRuns[0].memoryType, size: vkallocRuns[0].size })
      .toEqual({ memoryType: cRuns[0].memoryType, size: cRuns[0].size });
    expect(cRuns[0].calls.allocate).toBeGreaterThan(0);
  });

  it('allocator.stats().calls equal the C program\'s callback counts exactly, on every run', () => {
    for (let i = 0; i < RUNS; i++) expect(vkallocRuns[i].calls).toEqual(cRuns[i].calls);
  });

  it('nothing is left live at the end on either side', () => {
    for (let i = 0; i < RUNS; i++) {
      expect(vkallocRuns[i].liveCount).toBe(0);
      expect(cRuns[i].liveCount).toBe(0);
    }
  });

  it('the calls made off the main/JS thread agree too', () => {
    for (let i = 0; i < RUNS; i++) expect(vkallocRuns[i].offThreadCalls).toEqual(cRuns[i].offThreadCalls);
  });

  it('per Vulkan command, the block events vkalloc attributes equal the C program\'s', () => {
    // Off-thread callbacks are "none" on both sides; commands with no events are left out.
    for (let i = 0; i < RUNS; i++) expect(commandMap(vkallocRuns[i].commands)).toEqual(commandMap(cRuns[i].commands));
  });
});
