// The child process of sweep() (lib/fault/sweep.ts): runs the target at failure points
// start, start+step, start+2·step, … (step > 1 when sweep() runs several children side
// by side) and reports each on file descriptor 3, one JSON line per message, so that a
// driver crash (or hang) ends only this process, the parent knows at which point it
// happened, and whatever the target prints on stdout cannot be mistaken for a result.
// Messages: { kind: 'ready' } once set up, { kind: 'point', ...PointResult, rss? } per
// point, { kind: 'end' } after the last, or { kind: 'fatal', message } when the target
// cannot be loaded at all.
//
// The refusals are made in C++ (AllocatorBridge's failFrom, the CTS procedure: every
// allocation and reallocation from the point-th on), and the blocks served by the C++
// aligned allocator (NATIVE_POLICY), so that no callback crosses into JS: a point
// costs what the driver's work costs, as in the C procedure. The bridge's own record
// still says what was live afterwards, by command and scope.
//
// Flat memory over thousands of points: one allocator serves every point; the loop
// yields to the event loop after each point so that the wrappers the target dropped
// are finalized. The driver stays loaded once the loader has loaded it (one more
// reference to its library, taken at the first refused allocation that finds it
// loaded), instead of being reloaded (dlopen, relocation) at every point; nothing is
// loaded before the first point, so a short sweep that never reaches the driver does
// not pay for it. The allocations a target makes are the same either way.
import * as fs from 'fs';
import * as path from 'path';
import { VulkanError } from '../native/errors';
import { resolveDriver } from '../vulkan/driver';
import { bridgeOf, HostAllocator, NATIVE_POLICY } from '../allocator/host-allocator';
import { createInstance, Instance } from '../vulkan/instance';
import type { SweepFunction } from './sweep-targets';
import { SWEEP_TARGETS } from './sweep-targets';

export interface WorkerJob {
  target: string | { script: string; export?: string };
  driver: string;
  start: number;
  /** Points run: start, start+step, … below end. Default 1. */
  step?: number;
  end: number;
  /**
   * Report the resident set size with each point (the flat-memory test). Off by
   * default: with the driver loaded, reading it took ~120 us, a fifth of a point.
   */
  rss?: boolean;
}

export interface PointResult {
  /** Allocations from this index on were refused. */
  point: number;
  /** 'success', a VkResult name, 'error' (any other exception), 'crash' or 'hang'. */
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

export type WorkerMessage =
  | { kind: 'ready' }
  | ({ kind: 'point'; rss?: number } & PointResult)
  | { kind: 'end' }
  | { kind: 'fatal'; message: string };

/** The result channel (the parent opens it as a pipe; writes to it block, never fail with EAGAIN). */
export const RESULT_FD = 3;

function load(target: WorkerJob['target']): SweepFunction {
  if (typeof target === 'string') return SWEEP_TARGETS[target];

  const mod = require(target.script);
  const fn = target.export ? mod[target.export] : typeof mod === 'function' ? mod : mod.default ?? mod.run;
  if (typeof fn !== 'function') throw new TypeError(`${target.script} exports no function${target.export ? ` named ${target.export}` : ''} to sweep`);
  return fn;
}

/** The driver library as the loader will dlopen it (its ICD manifest's library_path), or null when not one known file. */
function libraryOf(driver: string): string | null {
  const icd = resolveDriver(driver).icdFiles;
  if (icd?.length !== 1) return null;
  try {
    const library: unknown = JSON.parse(fs.readFileSync(icd[0], 'utf8')).ICD.library_path;
    if (typeof library !== 'string' || library === '') return null;
    // A bare name is searched for by dlopen; a path is relative to the manifest.
    return library.includes('/') ? path.resolve(path.dirname(icd[0]), library) : library;
  } catch {
    return null;
  }
}

function send(message: WorkerMessage): void {
  fs.writeSync(RESULT_FD, JSON.stringify(message) + '\n');
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as WorkerJob;
  let fn: SweepFunction;
  try {
    fn = load(job.target);
  } catch (e) {
    send({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  let keepLoaded: Instance | null = null;
  // Held once the loader has loaded it (at a point's first refusal): no driver load before the first point.
  const driverLibrary = libraryOf(job.driver) ?? undefined;
  if (driverLibrary === undefined) {
    try {
      keepLoaded = createInstance({ driver: job.driver, validation: false });
    } catch {
      // The driver does not load: every point will say so.
    }
  }
  const allocator = new HostAllocator(NATIVE_POLICY);
  // The live blocks, off-thread frees handed over first as stats() does; a tenth of
  // what stats() costs, which builds every table.
  const bridge = bridgeOf(allocator);
  const live = () => {
    bridge.drain();
    return allocator.liveBlocks();
  };
  // The whole library, for scripts; loaded on first use (built-in targets never ask).
  let vkalloc: typeof import('../index') | undefined;
  const library = () => vkalloc ??= require('../index') as typeof import('../index');
  send({ kind: 'ready' });
  for (let point = job.start; point < job.end; point += job.step ?? 1) {
    // Blocks an earlier point leaked stay live: count only this point's.
    const earlier = live();
    const before = earlier.length === 0 ? null : new Set(earlier.map((b) => b.address));
    bridge.failFrom(point, driverLibrary);
    let result = 'success';
    let message: string | undefined;
    try {
      fn({ allocator, driver: job.driver, point, get vkalloc() { return library(); } });
    } catch (e) {
      result = e instanceof VulkanError ? e.code : 'error';
      message = e instanceof Error ? e.message : String(e);
    }
    const { requests, refused } = bridge.faultCounts();
    bridge.failFrom(null);  // what the worker itself does between points is not refused
    const left = live().filter((b) => !before?.has(b.address));
    send({
      kind: 'point', point, result, message, requests, refused,
      live: left.length, liveBytes: left.reduce((sum, b) => sum + b.size, 0),
      leaked: left.slice(0, 20).map(({ address, size, scope, command }) => ({ address, size, scope, command })),
      ...(job.rss ? { rss: process.memoryUsage.rss() } : {}),
    });
    if (result === 'success') break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  keepLoaded?.destroy();
  send({ kind: 'end' });
}

if (require.main === module) void main();
