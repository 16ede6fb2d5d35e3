// The child process of sweep() (lib/sweep.ts): runs the target at failure points
// start, start+1, … and prints one JSON line per point, so that a driver crash
// ends only this process and the parent knows at which point it happened.
import { AlignedHeaderPolicy } from '../allocator/aligned-header-policy';
import { VulkanError } from '../native/errors';
import { FailingPolicy } from './failing-policy';
import { HostAllocator } from '../allocator/host-allocator';
import type { SweepFunction } from './sweep-targets';
import { SWEEP_TARGETS } from './sweep-targets';

export interface WorkerJob {
  target: string | { script: string; export?: string };
  driver: string;
  start: number;
  end: number;
}

export interface PointResult {
  /** Allocations from this index on were refused. */
  point: number;
  /** 'success', a VkResult name, or 'error' (any other exception), or 'crash'. */
  result: string;
  message?: string;
  /** Allocation requests the policy saw, and how many it refused. */
  requests: number;
  refused: number;
  /** Blocks still live afterwards (a failed creation must leave none). */
  live: number;
  liveBytes: number;
  leaked: { address: number; size: number; scope: string; command: string }[];
}

function load(target: WorkerJob['target']): SweepFunction {
  if (typeof target === 'string') return SWEEP_TARGETS[target];
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(target.script);
  const fn = target.export ? mod[target.export] : typeof mod === 'function' ? mod : mod.default ?? mod.run;
  if (typeof fn !== 'function') throw new TypeError(`${target.script} exports no function${target.export ? ` named ${target.export}` : ''} to sweep`);
  return fn;
}

function runPoint(fn: SweepFunction, driver: string, point: number): PointResult {
  const policy = new FailingPolicy(new AlignedHeaderPolicy(), { from: point });
  const allocator = new HostAllocator(policy);
  let result = 'success';
  let message: string | undefined;
  try {
    fn({ allocator, driver, vkalloc: require('../index') });
  } catch (e) {
    result = e instanceof VulkanError ? e.code : 'error';
    message = e instanceof Error ? e.message : String(e);
  }
  const stats = allocator.stats();
  const leaked = allocator.liveBlocks().slice(0, 20).map(({ address, size, scope, command }) => ({ address, size, scope, command }));
  return { point, result, message, requests: policy.requests, refused: policy.failures, live: stats.liveCount, liveBytes: stats.liveBytes, leaked };
}

function main(): void {
  const job = JSON.parse(process.argv[2]) as WorkerJob;
  const fn = load(job.target);
  for (let point = job.start; point < job.end; point++) {
    const r = runPoint(fn, job.driver, point);
    process.stdout.write(JSON.stringify(r) + '\n');
    if (r.result === 'success') break;
  }
}

if (require.main === module) main();
