// Running any program under the vkalloc layer: where the layer is, the environment that
// enables it (for the loader here, 1.3.239, and newer ones), and a child-process runner
// with a timeout that kills the program's whole process group.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packagePath } from '../native/paths';
import { resolveDriver } from '../vulkan/driver';
import { readStreamFile, StreamTrace } from '../trace/stream-format';

export const LAYER_NAME = 'VK_LAYER_VKALLOC_trace';
export const LAYER_MANIFEST = 'VkLayer_vkalloc.json';

/** The directory holding the layer's manifest and library (VKALLOC_LAYER_DIR overrides). */
export function layerDir(): string {
  // A development build's, else the one the package ships beside the addon.
  const candidates = [packagePath('build', 'Release'), packagePath('prebuilds', `${process.platform}-${process.arch}`)];
  const dir = process.env.VKALLOC_LAYER_DIR ||
    candidates.find((d) => fs.existsSync(path.join(d, LAYER_MANIFEST))) || candidates[0];
  if (!fs.existsSync(path.join(dir, LAYER_MANIFEST)) || !fs.existsSync(path.join(dir, 'libVkLayer_vkalloc.so'))) {
    throw new Error(`The vkalloc layer is not built: expected ${LAYER_MANIFEST} and libVkLayer_vkalloc.so in ${dir}. ` +
      'Build it with: node scripts/setup.js');
  }
  return dir;
}

export interface LayerOptions {
  /** VKALLOC_TRACE_FILE: where the layer streams its trace (%p: the process id). */
  traceFile?: string;
  /** VKALLOC_FAIL_FROM: refuse every host allocation from this one on (0-based). */
  failFrom?: number;
  /** VKALLOC_FAIL_ONLY: only allocations during these commands count and can be refused. */
  failOnly?: string[];
  /** VKALLOC_CHECK: contract checks. */
  check?: boolean;
  /** A driver choice (lib/vulkan/driver.ts) made VK_DRIVER_FILES / VK_ICD_FILENAMES. */
  driver?: string;
  /** VKALLOC_TRACE_LIMIT: bytes the trace file may take. */
  traceLimit?: number;
  /** Where the layer goes among the instance layers already asked for: last (next to the driver, default) or first. */
  position?: 'first' | 'last';
}

const listJoin = (first: string, rest: string | undefined, sep: string) => (rest ? `${first}${sep}${rest}` : first);

/**
 * The environment that loads the layer into every Vulkan program started with it:
 * VK_INSTANCE_LAYERS (every loader) with VK_ADD_LAYER_PATH (1.3.2xx loaders; VK_LAYER_PATH too
 * when the caller set one, since it replaces the search path), and VK_LOADER_LAYERS_ENABLE
 * for loaders that filter layers with it.
 */
export function layerEnv(options: LayerOptions = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dir = layerDir();
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of ['VKALLOC_TRACE_FILE', 'VKALLOC_TRACE_LIMIT', 'VKALLOC_FAIL_FROM', 'VKALLOC_FAIL_ONLY', 'VKALLOC_CHECK']) delete env[name];
  env.VK_ADD_LAYER_PATH = listJoin(dir, base.VK_ADD_LAYER_PATH, ':');
  if (base.VK_LAYER_PATH) env.VK_LAYER_PATH = listJoin(dir, base.VK_LAYER_PATH, ':');
  const others = (base.VK_INSTANCE_LAYERS ?? '').split(':').filter((l) => l && l !== LAYER_NAME);
  env.VK_INSTANCE_LAYERS = (options.position === 'first' ? [LAYER_NAME, ...others] : [...others, LAYER_NAME]).join(':');
  const enabled = (base.VK_LOADER_LAYERS_ENABLE ?? '').split(',').filter((l) => l && l !== LAYER_NAME);
  env.VK_LOADER_LAYERS_ENABLE = [...enabled, LAYER_NAME].join(',');
  // The loader warns on stderr about every layer forced on by environment; keep its errors.
  if (base.VK_LOADER_DEBUG === undefined) env.VK_LOADER_DEBUG = 'error';
  if (options.traceFile) env.VKALLOC_TRACE_FILE = options.traceFile;
  if (options.traceLimit !== undefined) env.VKALLOC_TRACE_LIMIT = String(options.traceLimit);
  if (options.failFrom !== undefined) env.VKALLOC_FAIL_FROM = String(options.failFrom);
  if (options.failOnly && options.failOnly.length) env.VKALLOC_FAIL_ONLY = options.failOnly.join(',');
  if (options.check) env.VKALLOC_CHECK = '1';
  if (options.driver) {
    const { icdFiles } = resolveDriver(options.driver);
    if (icdFiles) {
      env.VK_DRIVER_FILES = icdFiles.join(':');
      env.VK_ICD_FILENAMES = icdFiles.join(':');
    }
  }
  return env;
}

export interface RunResult {
  pid: number;
  /** Exit status, or null when a signal ended it. */
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Captured output (stdio 'pipe'), the last 64 KiB of each. */
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the program's process group after this many ms (0: never). */
  timeoutMs?: number;
  stdio?: 'inherit' | 'pipe' | 'ignore';
  cwd?: string;
}

const TAIL = 64 * 1024;

/** Runs `command` (program and arguments); resolves when it ends, rejects when it cannot start. */
export function runProgram(command: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdio = options.stdio ?? 'pipe';
    // Its own process group (when not on the terminal), so a timeout kills its children too.
    const detached = stdio !== 'inherit';
    const child = spawn(command[0], command.slice(1), { env: options.env, stdio, detached, cwd: options.cwd });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout?.on('data', (d: Buffer) => { stdout = (stdout + d.toString()).slice(-TAIL); });
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-TAIL); });
    const timer = options.timeoutMs ? setTimeout(() => {
      timedOut = true;
      try {
        process.kill(detached ? -child.pid! : child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs) : null;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`Cannot run ${command[0]}: ${e.message}`));
    });
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ pid: child.pid!, status, signal, timedOut, stdout, stderr });
    });
  });
}

/** Shell convention: a signal's exit status is 128 + its number. */
export function exitStatusOf(r: RunResult): number {
  if (r.status !== null) return r.status;
  const n = r.signal ? os.constants.signals[r.signal] : undefined;
  return n ? 128 + n : 1;
}

export interface TracedRun {
  run: RunResult;
  /** The trace of the program itself (the process started), null when it wrote none (no Vulkan). */
  trace: StreamTrace | null;
  tracePath: string | null;
  /** Traces of other processes it started that used Vulkan, by pid. */
  children: { pid: number; path: string }[];
  dir: string;
}

/**
 * Runs `command` under the layer with the trace streamed into a fresh directory (one file
 * per process: %p). The caller removes `dir` when done.
 */
export async function runTraced(command: string[], layer: Omit<LayerOptions, 'traceFile'>, options: RunOptions = {}): Promise<TracedRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-layer-'));
  const env = layerEnv({ ...layer, traceFile: path.join(dir, 'trace.%p.txt') }, options.env ?? process.env);
  const run = await runProgram(command, { ...options, env });
  const files = fs.readdirSync(dir).filter((f) => /^trace\.\d+\.txt/.test(f)).map((f) => ({ pid: Number(f.split('.')[1]), path: path.join(dir, f) }));
  // The program itself, else (a shell that ran it, a launcher) the first process that traced.
  const started = (f: { path: string }) => fs.statSync(f.path).birthtimeMs || fs.statSync(f.path).mtimeMs;
  files.sort((a, b) => (a.pid === run.pid ? -1 : b.pid === run.pid ? 1 : started(a) - started(b)));
  const main = files[0] ?? null;
  return { run, trace: main ? readStreamFile(main.path) : null, tracePath: main?.path ?? null, children: files.slice(1), dir };
}
