// What C++ and TypeScript share across the boundary: the shared Float64Array of the
// policy bridge, the 56-byte trace event, and the names behind scope, violation and
// event numbers. The numbers come from the addon (native/bridge/boundary.cc); the
// name tables live here because TypeScript's types need them, and
// checkBoundary() compares them with the addon's when it loads, so a change on one
// side only fails loudly, at once.
import type * as Native from './contract';

/** VkSystemAllocationScope names, in enum order. */
export const SCOPE_NAMES = ['command', 'object', 'cache', 'device', 'instance'] as const;

/** Kinds of allocation-callback contract violation, in native/core/validator.h's order. */
export const VIOLATION_NAMES = [
  'double-free', 'free-unknown', 'realloc-unknown', 'realloc-freed', 'negative-internal-total',
  'invalid-scope', 'invalid-internal-type', 'bad-alignment', 'realloc-alignment-change',
  'leak', 'wrong-thread', 'outside-command',
] as const;

/** Trace event kinds, by their number (native TraceKind). */
export const EVENT_KINDS = [
  'allocate',          // 0: pfnAllocation (or pfnReallocation with a NULL original)
  'reallocate',        // 1: pfnReallocation (address: new block, oldAddress: original)
  'free',              // 2: pfnFree (or pfnReallocation to size 0)
  'internal-allocate', // 3: pfnInternalAllocation notification
  'internal-free',     // 4: pfnInternalFree notification
  'command-begin',     // 5: a Vulkan command issued from JS starts (size, address unused)
  'command-end',       // 6: ...and returns (size: its VkResult)
] as const;

/** Trace event flags, bit by bit. */
export const EVENT_FLAGS = {
  /** The callback returned NULL (allocation failed or was refused). */
  failed: 1,
  /** The callback came from a thread other than the JS thread. */
  offThread: 2,
  /** The callback came outside any Vulkan command issued from JS. */
  outsideCommand: 4,
} as const;

export type Boundary = typeof Native.boundary;

function same(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Throws, naming what differs, unless the addon agrees with the tables above. */
export function checkBoundary(boundary: Boundary): void {
  const drift: string[] = [];
  if (!same(boundary.scopeNames, SCOPE_NAMES)) drift.push(`scope names: native ${boundary.scopeNames.join(',')}`);
  if (!same(boundary.violationNames, VIOLATION_NAMES)) drift.push(`violation names: native ${boundary.violationNames.join(',')}`);
  if (boundary.eventKindCount !== EVENT_KINDS.length) drift.push(`event kinds: native has ${boundary.eventKindCount}`);
  for (const [name, bit] of Object.entries(EVENT_FLAGS)) {
    if (boundary.eventFlags[name as keyof typeof EVENT_FLAGS] !== bit) drift.push(`event flag ${name}`);
  }
  // The decoder reads the event with typed-array views: each field must sit on its own
  // element size, as the C++ struct lays it out.
  const e = boundary.traceEvent;
  const aligned: [keyof typeof e, number][] = [
    ['time', 8], ['size', 8], ['address', 8], ['oldAddress', 8], ['seq', 4], ['alignment', 4], ['command', 2], ['object', 4],
  ];
  for (const [field, width] of aligned) if (e[field] % width !== 0) drift.push(`trace event field ${field} at ${e[field]}`);
  if (e.bytes % 8 !== 0) drift.push(`trace event size ${e.bytes}`);
  if (drift.length > 0) {
    throw new Error(`vkalloc: the native addon and the TypeScript code disagree (${drift.join('; ')}): ` +
      'the addon is from another version; rebuild it (npm run build)');
  }
}

/** A VkSystemAllocationScope, by name. */
export type ScopeName = (typeof SCOPE_NAMES)[number];
