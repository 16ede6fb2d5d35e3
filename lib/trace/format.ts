// The allocation trace as TypeScript sees it: columns decoded in bulk from the
// native recorder's binary buffer (native/core/trace_recorder.h), one entry per event.
// This is also what a saved trace file holds (see saveTrace / loadTrace).

export const TRACE_FORMAT = 'vkalloc-trace';
export const TRACE_VERSION = 1;

export { EVENT_FLAGS, EVENT_KINDS } from '../native/boundary';
import { EVENT_KINDS } from '../native/boundary';
export type EventKind = (typeof EVENT_KINDS)[number];

export interface TraceObject {
  /** Index into TraceData.objects (0 = no object). */
  id: number;
  /** e.g. 'Buffer', 'Device'. */
  type: string;
  /** The command that created it, and the event sequence numbers of creation and destruction. */
  createdBy: string;
  createdAt: number;
  destroyedAt: number | null;
  /** The object it was created from (0 for an instance). */
  parent: number;
}

/** A trace's events, column by column (all arrays have `count` entries). */
export interface TraceData {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  /** Free text: driver, device, process, date. */
  meta: Record<string, string | number>;
  count: number;
  /** Events the recorder could not keep (buffer full, "drop" mode). */
  dropped: number;
  /** Sequence number: the order events happened in (per allocator). */
  seq: Float64Array;
  /** Nanoseconds since the trace started (monotonic clock). */
  time: Float64Array;
  /** Index into EVENT_KINDS. */
  kind: Uint8Array;
  /** VkSystemAllocationScope (0 command … 4 instance). */
  scope: Uint8Array;
  /** EVENT_FLAGS bits. */
  flags: Uint8Array;
  /** Bytes (the new size for reallocate; the VkResult for command-end). */
  size: Float64Array;
  alignment: Float64Array;
  /** The block's address (0 when the callback returned NULL). */
  address: Float64Array;
  /** reallocate: the original block. */
  oldAddress: Float64Array;
  /** Index into `commands` ('none' for callbacks outside any command). */
  command: Uint16Array;
  /** 0 = the JS thread; 1, 2, … other threads in order of first appearance. */
  thread: Uint8Array;
  /** Index into `objects` (0 = not attributed). */
  object: Uint32Array;
  /** Command names by index; commands[0] is 'none'. */
  commands: string[];
  /** Objects by index; objects[0] is a placeholder. */
  objects: TraceObject[];
  /** JS call site of each command-begin event (by seq), when call-site capture was on. */
  callSites: Record<number, string>;
}
