// sweep(): the CTS's alloc_callback_fail procedure for any object. For N = 0, 1, 2, …
// allocations from the Nth on are refused while the target creates (and destroys)
// its object; each point must end in VK_ERROR_OUT_OF_HOST_MEMORY with nothing left
// live, until creation succeeds. Points run in child processes (lib/fault/sweep-worker.ts),
// `jobs` of them side by side, so that a driver crash, or a hang (no result within the
// per-point timeout: the child is killed), becomes a finding at its point, and the
// sweep goes on in a new child.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StringDecoder } from 'string_decoder';
import { resolveDriver } from '../vulkan/driver';
import type { PointResult, WorkerJob, WorkerMessage } from './sweep-worker';
import { SWEEP_TARGETS } from './sweep-targets';
import * as is from '../util/is';
import { DIST_DIR } from '../native/paths';

export type { PointResult };

export interface SweepOptions {
  /** Default 'lavapipe'. */
  driver?: string;
  /** Stop after this many points even without a success (default 5000). */
  maxPoints?: number;
  /**
   * Seconds one point may take before it counts as a hang (default 60): the child is
   * killed, the point is recorded with result 'hang', and the sweep goes on after it.
   */
  timeout?: number;
  /**
   * Child processes running points side by side (default: os.availableParallelism(),
   * but one per 250 points of maxPoints at most). Child k runs points k, k + jobs,
   * k + 2·jobs, …; the report is the same for any number.
   */
  jobs?: number;
  /** Called after each point, in point order, for progress. */
  onPoint?: (result: PointResult) => void;
}

export interface SweepReport {
  target: string;
  driver: string;
  points: PointResult[];
  totals: {
    points: number;
    /** Failed with VK_ERROR_OUT_OF_HOST_MEMORY and left nothing live: what the spec asks. */
    cleanOom: number;
    /** Failed with another result or exception. */
    otherErrors: number;
    /** Left blocks live. */
    leaky: number;
    crashes: number;
    /** Points that gave no result within the timeout. */
    hangs: number;
    /** The first point at which creation succeeded (the number of allocations it needs), or null. */
    succeededAt: number | null;
  };
}

const WORKER = path.join(DIST_DIR, 'fault', 'sweep-worker.js');
/** Loading the target and the driver may take this long beyond a point's timeout. */
const STARTUP_SECONDS = 30;

type WorkerEnd =
  | { how: 'finished' }
  | { how: 'crashed' | 'hung'; detail: string }
  | { how: 'fatal'; detail: string };

interface Worker {
  /** How the child ended. */
  ended: Promise<WorkerEnd>;
  /** Kills the child, whose remaining points are not needed: it ends as 'finished'. */
  stop(): void;
}

/** How often the parent reads what the children wrote. */
const POLL_MS = 20;
let workerCount = 0;

/**
 * Runs one child from `job.start`, passing each point on. The child writes its results
 * to a file, not a pipe: a write that wakes a waiting reader cost ~150 us here (a
 * quarter of a point), one to a file ~10 us, and what is in the file outlives a crash
 * just the same. The parent reads the file every POLL_MS and when the child ends.
 */
function runWorker(job: WorkerJob, timeoutSeconds: number, onPoint: (r: PointResult) => void): Worker {
  let stop = () => {};
  const ended = new Promise<WorkerEnd>((resolve, reject) => {
    // Unlinked at once: nothing is left behind, whatever happens to either process.
    const file = path.join(os.tmpdir(), `vkalloc-sweep-${process.pid}-${++workerCount}.jsonl`);
    const output = fs.openSync(file, 'w');
    const input = fs.openSync(file, 'r');
    fs.rmSync(file);
    // stdin, stdout, stderr, and the results on fd 3 (RESULT_FD in sweep-worker.ts).
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe', output] });
    } finally {
      fs.closeSync(output);
    }
    let pending = '';
    let stderr = '';
    let ended: WorkerEnd | null = null;
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (seconds: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, seconds * 1000);
    };
    stop = () => {
      ended ??= { how: 'finished' };
      child.kill('SIGKILL');
    };
    arm(timeoutSeconds + STARTUP_SECONDS);
    const decoder = new StringDecoder('utf8');
    const chunk = Buffer.alloc(1 << 16);
    let offset = 0;
    let closed = false;
    const read = () => {
      if (closed) return;
      for (let n; (n = fs.readSync(input, chunk, 0, chunk.length, offset)) > 0; offset += n) pending += decoder.write(chunk.subarray(0, n));
      let nl: number;
      while (!ended && (nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let message: WorkerMessage;
        try {
          message = JSON.parse(line) as WorkerMessage;
        } catch {
          continue;  // not ours (a target writing to fd 3): a missing result shows as a crash
        }
        if (message.kind === 'point') {
          const { kind: _kind, rss: _rss, ...result } = message;
          arm(timeoutSeconds);
          if (result.result === 'success') ended = { how: 'finished' };
          onPoint(result);
        } else if (message.kind === 'ready') {
          arm(timeoutSeconds);
        } else if (message.kind === 'end') {
          ended = { how: 'finished' };
        } else {
          ended = { how: 'fatal', detail: message.message };
        }
      }
    };
    const poll = setInterval(read, POLL_MS);
    // What the target prints is not ours to show; the tail of stderr explains a crash.
    child.stdout!.resume();
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-2000); });
    const finish = () => {
      clearTimeout(timer);
      clearInterval(poll);
      if (!closed) fs.closeSync(input);
      closed = true;
    };
    child.on('error', (e) => {
      finish();
      reject(e);
    });
    child.on('close', (code, signal) => {
      read();
      finish();
      if (ended) resolve(ended);
      else if (hung) resolve({ how: 'hung', detail: `no result within ${timeoutSeconds} s: the worker was killed` });
      else resolve({ how: 'crashed', detail: signal ? `killed by ${signal}` : `exit code ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
  return { ended, stop };
}

export async function sweep(target: string | { script: string; export?: string }, options: SweepOptions = {}): Promise<SweepReport> {
  const o = is.options(options, 'options', ['driver', 'maxPoints', 'timeout', 'jobs', 'onPoint'] as const);
  let name: string;
  if (typeof target === 'string') {
    name = is.oneOf(target, 'target', Object.keys(SWEEP_TARGETS));
  } else {
    const t = is.options(target, 'target', ['script', 'export'] as const);
    target = { script: path.resolve(is.string(t.script, 'target.script')), ...(t.export !== undefined ? { export: is.string(t.export, 'target.export') } : {}) };
    name = path.basename(target.script);
  }
  const driver = o.driver === undefined ? 'lavapipe' : is.string(o.driver, 'driver');
  resolveDriver(driver);  // a bad driver fails here, not once per point
  const maxPoints = o.maxPoints === undefined ? 5000 : is.positiveInteger(o.maxPoints, 'maxPoints');
  const timeout = o.timeout === undefined ? 60 : positiveSeconds(o.timeout, 'timeout');
  const jobs = o.jobs === undefined ? defaultJobs(maxPoints) : Math.min(maxPoints, is.positiveInteger(o.jobs, 'jobs'));
  const onPoint = o.onPoint === undefined ? undefined : (o.onPoint as (r: PointResult) => void);

  // Child k of `jobs` runs points k, k + jobs, k + 2·jobs, …: the later points, which
  // take longer, are shared alike. Results arrive out of order; they are passed on in
  // point order. The first success ends the sweep: points after it are not kept, and a
  // child already past it is stopped.
  const results = new Map<number, PointResult>();
  const points: PointResult[] = [];
  let successAt = Infinity;
  let fatal: string | null = null;
  /** The children now running, with the next point each will run. */
  const running = new Set<{ next: number; worker?: Worker }>();
  const stopPast = () => {
    for (const r of running) if (r.next > successAt || fatal !== null) r.worker?.stop();
  };
  const record = (r: PointResult) => {
    if (r.point > successAt) return stopPast();
    if (r.result === 'success') {
      successAt = r.point;
      for (const p of results.keys()) if (p > successAt) results.delete(p);
    }
    results.set(r.point, r);
    while (results.has(points.length)) {
      const next = results.get(points.length)!;
      results.delete(points.length);
      points.push(next);
      onPoint?.(next);
    }
    stopPast();
  };
  const stripe = async (first: number) => {
    let next = first;
    while (next < maxPoints && next <= successAt && fatal === null) {
      const entry: { next: number; worker?: Worker } = { next };
      entry.worker = runWorker({ target, driver, start: next, step: jobs, end: maxPoints }, timeout, (r) => {
        entry.next = r.point + jobs;
        record(r);
      });
      running.add(entry);
      const end = await entry.worker.ended;
      running.delete(entry);
      next = entry.next;
      if (end.how === 'fatal') {
        fatal ??= end.detail;
        stopPast();
      } else if (end.how === 'finished') {
        break;
      } else if (next < maxPoints && next <= successAt) {
        record({
          point: next, result: end.how === 'hung' ? 'hang' : 'crash', message: end.detail,
          requests: 0, refused: 0, live: 0, liveBytes: 0, leaked: [],
        });
        next += jobs;
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, (_, k) => stripe(k)));
  if (fatal !== null) throw new Error(`Cannot sweep ${name}: ${fatal}`);
  const succeeded = points.find((p) => p.result === 'success');
  return {
    target: name,
    driver,
    points,
    totals: {
      points: points.length,
      cleanOom: points.filter((p) => p.result === 'VK_ERROR_OUT_OF_HOST_MEMORY' && p.live === 0).length,
      otherErrors: points.filter((p) => !['success', 'crash', 'hang', 'VK_ERROR_OUT_OF_HOST_MEMORY'].includes(p.result)).length,
      leaky: points.filter((p) => p.live > 0).length,
      crashes: points.filter((p) => p.result === 'crash').length,
      hangs: points.filter((p) => p.result === 'hang').length,
      succeededAt: succeeded ? succeeded.point : null,
    },
  };
}

/**
 * One child per CPU, but no more than one per POINTS_PER_CHILD points of maxPoints: a
 * child takes as long to start (Node, the addon, later the driver) as a few hundred
 * points take to run, so a short sweep is fastest in one.
 */
function defaultJobs(maxPoints: number): number {
  return Math.max(1, Math.min(os.availableParallelism(), Math.floor(maxPoints / POINTS_PER_CHILD)));
}
const POINTS_PER_CHILD = 250;

function positiveSeconds(value: unknown, name: string): number {
  const expected = 'a positive number of seconds';
  if (typeof value !== 'number') is.fail('type', expected, name, value);
  if (!(value > 0 && value <= 2 ** 31 / 1000)) is.fail('range', expected, name, value);
  return value;
}
