// sweep(): the CTS's alloc_callback_fail procedure for any object. For N = 0, 1, 2, …
// allocations from the Nth on are refused while the target creates (and destroys)
// its object; each point must end in VK_ERROR_OUT_OF_HOST_MEMORY with nothing left
// live, until creation succeeds. Points run in a child process (lib/sweep-worker.ts)
// so that a driver crash becomes a finding at its point, and the sweep goes on.
import { spawn } from 'child_process';
import * as path from 'path';
import { resolveDriver } from '../vulkan/driver';
import type { PointResult, WorkerJob } from './sweep-worker';
import { SWEEP_TARGETS } from './sweep-targets';
import * as is from '../util/is';
import { DIST_DIR } from '../native/paths';

export type { PointResult };

export interface SweepOptions {
  /** Default 'lavapipe'. */
  driver?: string;
  /** Stop after this many points even without a success (default 5000). */
  maxPoints?: number;
  /** Called after each point, for progress. */
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
    /** The first point at which creation succeeded (the number of allocations it needs), or null. */
    succeededAt: number | null;
  };
}

const WORKER = path.join(DIST_DIR, 'fault', 'sweep-worker.js');

/** Runs one child from `start`; resolves with its points and whether it died early. */
function runWorker(job: WorkerJob, onPoint: (r: PointResult) => void): Promise<{ crashed: boolean; detail: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let stderr = '';
    let sawSuccess = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const r = JSON.parse(pending.slice(0, nl)) as PointResult;
        pending = pending.slice(nl + 1);
        if (r.result === 'success') sawSuccess = true;
        onPoint(r);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-2000); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const crashed = !sawSuccess && (signal !== null || code !== 0);
      resolve({ crashed, detail: signal ? `killed by ${signal}` : `exit code ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

export async function sweep(target: string | { script: string; export?: string }, options: SweepOptions = {}): Promise<SweepReport> {
  const o = is.options(options, 'options', ['driver', 'maxPoints', 'onPoint'] as const);
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
  const onPoint = o.onPoint === undefined ? undefined : (o.onPoint as (r: PointResult) => void);

  const points: PointResult[] = [];
  let next = 0;
  while (next < maxPoints && !points.some((p) => p.result === 'success')) {
    const { crashed, detail } = await runWorker({ target, driver, start: next, end: maxPoints }, (r) => {
      points.push(r);
      onPoint?.(r);
    });
    next = points.length;
    if (crashed && next < maxPoints) {
      const crash: PointResult = { point: next, result: 'crash', message: detail, requests: 0, refused: 0, live: 0, liveBytes: 0, leaked: [] };
      points.push(crash);
      onPoint?.(crash);
      next++;
    } else if (!crashed) {
      break;
    }
  }
  const succeeded = points.find((p) => p.result === 'success');
  return {
    target: name,
    driver,
    points,
    totals: {
      points: points.length,
      cleanOom: points.filter((p) => p.result === 'VK_ERROR_OUT_OF_HOST_MEMORY' && p.live === 0).length,
      otherErrors: points.filter((p) => p.result !== 'success' && p.result !== 'crash' && p.result !== 'VK_ERROR_OUT_OF_HOST_MEMORY').length,
      leaky: points.filter((p) => p.live > 0).length,
      crashes: points.filter((p) => p.result === 'crash').length,
      succeededAt: succeeded ? succeeded.point : null,
    },
  };
}
