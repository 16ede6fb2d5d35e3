#!/usr/bin/env node
// What a JavaScript policy costs a lavapipe vkCreateInstance+Destroy however little it
// does: the NULL allocator, NATIVE_POLICY, the default AlignedHeaderPolicy, and a policy
// doing almost nothing (ready blocks from free lists in arrays, a Map from address to
// class), each in child processes of its own, alternating, ms per instance.
// docs/performance.md (fifth round) reads it. `node bench/policy-floor.js [rounds]`.
'use strict';
const { execFileSync } = require('child_process');

const VARIANTS = ['NULL', 'NATIVE_POLICY', 'AlignedHeaderPolicy', 'free lists + Map'];

function child(variant) {
  const v = require('../dist/index.js');
  const { findLavapipe } = require('../dist/vulkan/driver.js');
  const driver = findLavapipe();
  const allocator = variant === 'NULL' ? null
    : variant === 'NATIVE_POLICY' ? new v.HostAllocator(v.NATIVE_POLICY)
      : variant === 'AlignedHeaderPolicy' ? new v.HostAllocator()
        : new v.HostAllocator(freeListPolicy(v));
  for (let i = 0; i < 30; i++) v.createInstance({ driver }, { allocator }).destroy();
  const t = process.hrtime.bigint();
  for (let i = 0; i < 300; i++) v.createInstance({ driver }, { allocator }).destroy();
  return Number(process.hrtime.bigint() - t) / 300e6;
}

/** Blocks from one 256 MiB chunk, kept on free lists per class (ready ones) or per size and alignment. */
function freeListPolicy(v) {
  const chunk = v.nativeChunkSource.obtain(256 << 20);
  const limit = chunk.address + (256 << 20);
  let bump = chunk.address;
  const take = (bytes, alignment) => {
    bump = Math.ceil(bump / alignment) * alignment;
    const address = bump;
    bump += bytes;
    if (bump > limit) throw new Error('free-list policy: out of its chunk');
    return address;
  };
  const bounds = Array.from({ length: 32 }, (_, k) => 32 * (k + 1));
  const lists = bounds.map(() => []);
  const others = new Map();  // size * 2^17 + alignment -> free addresses
  const keyOf = new Map();   // live address -> class (>= 0) or -(size * 2^17 + alignment)
  return {
    readyClasses: { sizes: bounds, maxAlignment: 16 },
    prepare: (k) => lists[k].pop() ?? take(bounds[k], 16),
    commit: (address, size) => { keyOf.set(address, size === 0 ? 0 : ((size + 31) >> 5) - 1); },
    giveBack: () => {},  // (only dispose() gives blocks back: never here)
    allocate: (size, alignment) => {
      const key = Math.max(size, 1) * 131072 + alignment;
      const address = others.get(key)?.pop() ?? take(Math.max(size, 1), Math.max(alignment, 16));
      keyOf.set(address, -key);
      return address;
    },
    free: (address) => {
      const key = keyOf.get(address);
      keyOf.delete(address);
      if (key >= 0) lists[key].push(address);
      else if (others.has(-key)) others.get(-key).push(address);
      else others.set(-key, [address]);
    },
  };
}

if (process.argv[2] === '--child') {
  console.log(child(process.argv[3]));
} else {
  const rounds = Number(process.argv[2] || 6);
  const ms = Object.fromEntries(VARIANTS.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < VARIANTS.length; i++) {
      const variant = VARIANTS[(i + r) % VARIANTS.length];
      ms[variant].push(Number(execFileSync(process.execPath, [__filename, '--child', variant]).toString()));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const base = median(ms.NULL);
  console.log(`lavapipe vkCreateInstance+Destroy, ms (median of ${rounds} processes, 300 instances each) and ÷ NULL:`);
  for (const k of VARIANTS) console.log(`  ${k.padEnd(22)} ${median(ms[k]).toFixed(3)}  ${(median(ms[k]) / base).toFixed(3)}`);
}
