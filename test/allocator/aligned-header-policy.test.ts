// AlignedHeaderPolicy and its ChunkHeap, on fake-address ArrayBuffer chunks.
// Overlap is detected by filling every live block's full `size` bytes with a slice of a
// random reference buffer, shifted per block, and comparing all of them later.

import { AlignedHeaderPolicy, HEADER_BYTES, MAX_ALIGNMENT } from '../../lib/allocator/aligned-header-policy';
import { CLASS_COUNT, CLASS_SIZES, ChunkHeap, MAX_SLAB_BLOCK, sizeClassOf } from '../../lib/allocator/chunk-heap';
import { ArrayBufferChunkSource } from '../helpers/array-buffer-chunk-source';
import { nativeChunkSource, RetainingChunkSource } from '../../lib/allocator/native-chunk-source';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_TEST_SIZE = 70000;
const SHIFTS = 4096;
const REFERENCE = (() => {
  const rnd = mulberry32(12345);
  const b = Buffer.alloc(MAX_TEST_SIZE + SHIFTS);
  for (let i = 0; i < b.length; i++) b[i] = (rnd() * 256) | 0;
  return b;
})();

const ALIGNMENTS = Array.from({ length: 17 }, (_, i) => 2 ** i); // 1 .. 65536

interface Block { size: number; alignment: number; shift: number; }

/** The block's bytes, found through the heap's chunk table (not through the header). */
function bytesAt(policy: AlignedHeaderPolicy, address: number, size: number): Buffer {
  const rec = policy.heap.chunkFor(address - HEADER_BYTES);
  if (rec === null) throw new Error(`no chunk for 0x${address.toString(16)}`);
  const offset = address - rec.base;
  if (offset + size > rec.size) throw new Error(`block 0x${address.toString(16)} runs past its chunk`);
  return Buffer.from(rec.u8.buffer, offset, size);
}

function shiftFor(address: number, salt: number): number {
  return (Math.imul((address % 0x100000000) | 0, 0x9e3779b1) ^ salt) >>> 20; // 0..4095
}

function fill(policy: AlignedHeaderPolicy, address: number, b: Block): void {
  bytesAt(policy, address, b.size).set(REFERENCE.subarray(b.shift, b.shift + b.size));
}

function intact(policy: AlignedHeaderPolicy, address: number, b: Block): boolean {
  return bytesAt(policy, address, b.size).equals(REFERENCE.subarray(b.shift, b.shift + b.size));
}

function verifyAll(policy: AlignedHeaderPolicy, model: Map<number, Block>): void {
  let bad = 0;
  for (const [address, b] of model) if (!intact(policy, address, b)) bad++;
  expect(bad).toBe(0);
}

function readHeader(policy: AlignedHeaderPolicy, address: number) {
  const rec = policy.heap.chunkFor(address - HEADER_BYTES)!;
  const offset = address - rec.base;
  const word1 = rec.i32[offset / 4 - 3];
  return {
    tag: rec.i32[offset / 4 - 4],
    adjustment: word1 & 0x1ffff,
    alignment: 2 ** (word1 >>> 20),
    size: rec.f64[offset / 8 - 1],
  };
}

function newPolicy() {
  const source = new ArrayBufferChunkSource();
  return { source, policy: new AlignedHeaderPolicy({ source }) };
}

describe('ChunkHeap', () => {
  test('size classes are multiples of 16 and sizeClassOf picks the smallest that fits', () => {
    expect(CLASS_SIZES[CLASS_COUNT - 1]).toBe(MAX_SLAB_BLOCK);
    for (let c = 0; c < CLASS_COUNT; c++) {
      expect(CLASS_SIZES[c] % 16).toBe(0);
      if (c > 0) expect(CLASS_SIZES[c]).toBeGreaterThan(CLASS_SIZES[c - 1]);
    }
    let wrong = 0;
    for (let s = 1; s <= MAX_SLAB_BLOCK; s++) {
      const c = sizeClassOf(s);
      if (!(CLASS_SIZES[c] >= s && (c === 0 || CLASS_SIZES[c - 1] < s))) wrong++;
    }
    expect(wrong).toBe(0);
  });

  test('blocks are 16-aligned, findable, and bad frees throw without changing state', () => {
    const source = new ArrayBufferChunkSource();
    const heap = new ChunkHeap(source);
    const a = heap.allocate(100);
    const b = heap.allocate(100);
    const big = heap.allocate(50000);
    for (const x of [a, b, big]) expect(x % 16).toBe(0);
    expect(heap.blockCapacity(a)).toBe(112);
    expect(heap.blockCapacity(big)).toBe(50000);
    expect(heap.chunkFor(a + 5)!.base).toBeLessThanOrEqual(a);
    expect(heap.chunkFor(big + 49999)!.base).toBe(big);
    expect(heap.chunkFor(big + 50000)).toBeNull();
    const before = heap.stats();
    for (const bad of [a + 16, a + 1, 0x1000, big + 16]) {
      expect(() => heap.free(bad)).toThrow(new RangeError(`ChunkHeap.free: 0x${bad.toString(16)} is not a live block of this heap`));
    }
    expect(heap.stats()).toEqual(before);
    heap.free(a);
    expect(() => heap.free(a)).toThrow(RangeError);
    expect(heap.blockCapacity(a)).toBe(0);
    heap.free(big);
    expect(source.releases).toBe(1); // the dedicated chunk
    expect(heap.stats()).toMatchObject({ liveBlocks: 1, liveBytes: 112 });
  });

  test('empty slabs go back to the source, keeping one spare per class', () => {
    const source = new ArrayBufferChunkSource();
    const heap = new ChunkHeap(source);
    const blocks = Array.from({ length: 64 * 4 }, () => heap.allocate(64)); // 4 slabs of 64
    expect(source.obtains).toBe(4);
    for (const x of blocks) heap.free(x);
    expect(source.releases).toBe(3);
    expect(heap.stats()).toEqual({ chunks: 1, bytesHeld: 4096, peakBytesHeld: 4 * 4096, liveBlocks: 0, liveBytes: 0 });
    heap.allocate(64); // reuses the spare
    expect(source.obtains).toBe(4);
    heap.releaseAll();
    expect(source.live.size).toBe(0);
    expect(heap.stats()).toMatchObject({ chunks: 0, bytesHeld: 0, liveBlocks: 0 });
  });

  test('spareSlabsPerClass keeps more (or no) empty slabs', () => {
    for (const [spares, kept] of [[0, 0], [2, 2], [Infinity, 4]] as const) {
      const source = new ArrayBufferChunkSource();
      const heap = new ChunkHeap(source, { spareSlabsPerClass: spares });
      for (let round = 0; round < 3; round++) {
        const blocks = Array.from({ length: 64 * 4 }, () => heap.allocate(64));
        for (const x of blocks) heap.free(x);
        expect(source.live.size).toBe(kept);
      }
      expect(source.obtains).toBe(spares === Infinity ? 4 : 4 + 2 * (4 - kept));
    }
    expect(() => new ChunkHeap(new ArrayBufferChunkSource(), { spareSlabsPerClass: -1 })).toThrow(RangeError);
  });

  test('liveBlockIndex finds exactly the live block starts, in every class (against a division)', () => {
    const heap = new ChunkHeap(new ArrayBufferChunkSource());
    for (let c = 0; c < CLASS_COUNT; c++) {
      const size = CLASS_SIZES[c];
      const first = heap.allocate(size);
      const rec = heap.chunkFor(first)!;
      // Fill the slab, then free every third block: live, freed and never used ones.
      const blocks = [first];
      while (heap.chunkFor(blocks[blocks.length - 1]) === rec && blocks.length < rec.blockCount) blocks.push(heap.allocate(size));
      for (let i = 0; i < blocks.length; i += 3) heap.free(blocks[i]);
      const offsets = [-size, -16, -1, 0.5, 16.5, rec.size, rec.size + size, 2 ** 31, 2 ** 31 + size, 2 ** 40];
      for (let offset = 0; offset < rec.size; offset += offset < 4 * size ? 1 : 8) offsets.push(offset);
      for (const offset of offsets) {
        const index = offset / size;
        const expected = Number.isInteger(index) && index >= 0 && index < rec.bump && rec.live[index] === 1 ? index : -1;
        if (heap.liveBlockIndex(rec, offset) !== expected) {
          throw new Error(`class ${c} (${size} B): liveBlockIndex(${offset}) = ${heap.liveBlockIndex(rec, offset)}, expected ${expected}`);
        }
      }
    }
  });

  test('a released chunk is never found again, when its address comes back in another chunk', () => {
    // As malloc does: the next chunk of that size reuses the address of the one released.
    const reused = 0x7f1234560010;
    const released: ArrayBuffer[] = [];
    const source = {
      obtain: (size: number) => ({ address: reused, buffer: new ArrayBuffer(size) }),
      release: (chunk: { buffer: ArrayBuffer }) => { released.push(chunk.buffer); },
    };
    const heap = new ChunkHeap(source, { spareSlabsPerClass: 0 });
    const big = heap.allocate(40000);  // a dedicated chunk at `reused`
    expect(big).toBe(reused);
    expect(heap.chunkFor(big + 39000)!.size).toBe(40000);  // (now remembered for that page)
    heap.free(big);
    expect(released).toHaveLength(1);
    expect(heap.chunkFor(big + 39000)).toBeNull();
    const small = heap.allocate(64);  // a 4 KiB slab, at the same address
    expect(small).toBe(reused);
    expect(heap.chunkFor(big + 39000)).toBeNull();  // past the slab: nothing there now
    expect(heap.chunkFor(small + 4000)!.size).toBe(4096);
    expect(heap.blockCapacity(small)).toBe(64);
    heap.free(small);
    expect(heap.stats()).toMatchObject({ chunks: 0, liveBlocks: 0 });
  });
});

describe('AlignedHeaderPolicy', () => {
  afterEach(() => {
    AlignedHeaderPolicy.defaultSource = null;
  });

  test('its source: native chunks by default, or the one passed, or the deprecated default hook', () => {
    const native = new AlignedHeaderPolicy();
    expect(native.source).toBeInstanceOf(RetainingChunkSource);
    expect((native.source as RetainingChunkSource).inner).toBe(nativeChunkSource);
    expect(new AlignedHeaderPolicy().source).not.toBe(native.source);  // a pool each
    const passed = new ArrayBufferChunkSource();
    expect(new AlignedHeaderPolicy({ source: passed }).source).toBe(passed);
    const source = new ArrayBufferChunkSource();
    AlignedHeaderPolicy.defaultSource = source;
    const policy = new AlignedHeaderPolicy();
    expect(policy.allocate(10, 8, 'object')).not.toBe(0);
    expect(source.obtains).toBe(1);
  });

  test('every power-of-two alignment 1..65536 is honoured, with an intact header', () => {
    const { source, policy } = newPolicy();
    const model = new Map<number, Block>();
    const sizes = [0, 1, 7, 16, 17, 100, 1000, 4097, 40000, MAX_TEST_SIZE];
    for (const alignment of ALIGNMENTS) {
      for (const size of sizes) {
        const address = policy.allocate(size, alignment, 'object');
        expect(address).not.toBe(0);
        expect(address % alignment).toBe(0);
        expect(address % 16).toBe(0);
        const h = readHeader(policy, address);
        expect(h.size).toBe(size);
        expect(h.alignment).toBe(alignment);
        expect(h.tag).not.toBe(0);
        expect(h.adjustment).toBeGreaterThanOrEqual(HEADER_BYTES); // slack always holds the header
        expect(h.adjustment).toBeLessThanOrEqual(Math.max(HEADER_BYTES, alignment));
        const raw = address - h.adjustment;
        expect(policy.heap.blockCapacity(raw)).toBeGreaterThanOrEqual(h.adjustment + Math.max(size, 1));
        expect(policy.view(address).length).toBe(size);
        const b = { size, alignment, shift: shiftFor(address, model.size) };
        fill(policy, address, b);
        model.set(address, b);
      }
    }
    expect(model.size).toBe(ALIGNMENTS.length * sizes.length); // all distinct
    verifyAll(policy, model);
    expect(policy.stats()).toMatchObject({ liveBlocks: model.size, liveBytes: ALIGNMENTS.length * sizes.reduce((s, x) => s + x, 0) });
    for (const address of model.keys()) policy.free(address);
    expect(policy.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0, rejected: 0 });
    expect(source.live.size).toBeLessThanOrEqual(CLASS_COUNT); // spares only
    expect(policy.stats().bytesHeld).toBe(source.liveBytes);
  });

  test('bad alignments and sizes are rejected without touching the source', () => {
    const { source, policy } = newPolicy();
    const badAlignments = [0, 3, 5, 6, 12, 24, 48, 1.5, 0.5, -1, -16, NaN, Infinity, MAX_ALIGNMENT * 2, 2 ** 31, 2 ** 32 + 16];
    for (const alignment of badAlignments) expect(policy.allocate(64, alignment, 'object')).toBe(0);
    for (const size of [-1, 1.5, NaN, Infinity, 2 ** 60]) expect(policy.allocate(size, 16, 'object')).toBe(0);
    expect(policy.stats()).toMatchObject({ rejected: badAlignments.length + 5, liveBlocks: 0, chunks: 0 });
    expect(source.obtains).toBe(0);
  });

  test('filling every block fully never touches another block (random sizes and alignments)', () => {
    const { policy } = newPolicy();
    const rnd = mulberry32(7);
    const model = new Map<number, Block>();
    const add = () => {
      const size = Math.floor(rnd() ** 3 * MAX_TEST_SIZE);
      const alignment = ALIGNMENTS[Math.floor(rnd() * 13)];
      const address = policy.allocate(size, alignment, 'object');
      expect(model.has(address)).toBe(false);
      const b = { size, alignment, shift: shiftFor(address, model.size) };
      fill(policy, address, b);
      model.set(address, b);
    };
    for (let i = 0; i < 600; i++) add();
    verifyAll(policy, model);
    for (const address of [...model.keys()]) {
      if (rnd() < 0.5) {
        expect(intact(policy, address, model.get(address)!)).toBe(true);
        policy.free(address);
        model.delete(address);
      }
    }
    for (let i = 0; i < 300; i++) add();
    verifyAll(policy, model);
    expect(policy.stats()).toMatchObject({ liveBlocks: model.size, liveBytes: [...model.values()].reduce((s, b) => s + b.size, 0) });
  });

  test('reallocate keeps contents when growing and shrinking, and needs the same alignment', () => {
    const { policy } = newPolicy();
    let address = policy.allocate(100, 64, 'object');
    let b: Block = { size: 100, alignment: 64, shift: 11 };
    fill(policy, address, b);
    // Within capacity: in place.
    const same = policy.reallocate(address, 104, 64, 'object');
    expect(same).toBe(address);
    expect(bytesAt(policy, address, 100).equals(REFERENCE.subarray(11, 111))).toBe(true);
    b = { ...b, size: 104, shift: 1000 };
    fill(policy, address, b);
    for (const size of [300, 5000, 40000, 65536, 1000, 50, 3]) {
      const moved = policy.reallocate(address, size, 64, 'object');
      expect(moved).not.toBe(0);
      expect(moved % 64).toBe(0);
      const kept = Math.min(size, b.size);
      expect(bytesAt(policy, moved, kept).equals(REFERENCE.subarray(b.shift, b.shift + kept))).toBe(true);
      expect(readHeader(policy, moved).size).toBe(size);
      address = moved;
      b = { size, alignment: 64, shift: (b.shift + 7) % SHIFTS };
      fill(policy, address, b);
      expect(policy.stats()).toMatchObject({ liveBlocks: 1, liveBytes: size });
    }
    expect(policy.reallocate(address, 10, 32, 'object')).toBe(0);
    expect(policy.stats().rejected).toBe(1);
    expect(intact(policy, address, b)).toBe(true);
    policy.free(address);
    expect(policy.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
  });

  test('a reallocate that cannot get memory returns 0 and leaves the old block as it was', () => {
    const { source, policy } = newPolicy();
    const keep = policy.allocate(3000, 16, 'object');
    const address = policy.allocate(2000, 256, 'object');
    const b: Block = { size: 2000, alignment: 256, shift: 77 };
    fill(policy, address, b);
    const k: Block = { size: 3000, alignment: 16, shift: 5 };
    fill(policy, keep, k);
    source.failAfter(0);
    const before = policy.stats();
    const header = readHeader(policy, address);
    expect(policy.reallocate(address, 100000, 256, 'object')).toBe(0);
    expect(policy.allocate(100, 16, 'object')).toBe(0);
    expect(policy.stats()).toEqual({ ...before, failures: 2 });
    expect(readHeader(policy, address)).toEqual(header);
    expect(intact(policy, address, b)).toBe(true);
    expect(intact(policy, keep, k)).toBe(true);
    // Shrinking still works without new memory (in place if it cannot move).
    const shrunk = policy.reallocate(address, 10, 256, 'object');
    expect(shrunk).toBe(address);
    expect(policy.stats()).toMatchObject({ liveBytes: 3010, failures: 2 });
    source.succeed();
    policy.free(address);
    policy.free(keep);
    expect(policy.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
  });

  test('freeing a foreign pointer or freeing twice throws RangeError and changes nothing', () => {
    const { source, policy } = newPolicy();
    const rnd = mulberry32(99);
    const model = new Map<number, Block>();
    for (let i = 0; i < 200; i++) {
      const size = 1 + Math.floor(rnd() * 3000);
      const alignment = ALIGNMENTS[Math.floor(rnd() * 9)];
      const address = policy.allocate(size, alignment, 'object');
      const b = { size, alignment, shift: shiftFor(address, i) };
      fill(policy, address, b);
      model.set(address, b);
    }
    const [a, second] = [...model.keys()];
    const freed = policy.allocate(64, 32, 'object');
    policy.free(freed);
    const big = policy.allocate(50000, 16, 'object');
    model.set(big, { size: 50000, alignment: 16, shift: 3 });
    fill(policy, big, model.get(big)!);
    const stats = policy.stats();
    const counts = [source.obtains, source.releases];
    const bad = [
      [freed, 'bad header tag'],
      [a + 16, 'bad header tag'],
      [a + 32, 'bad header tag'],
      [a + 3, 'bad header tag'],
      [big + 4096, 'bad header tag'],
      [0x1000, 'not inside any chunk'],
      [0x7f0000000000 - 64, 'not inside any chunk'],
      [0x7fff00000000, 'not inside any chunk'],
    ] as const;
    for (const [address, reason] of bad) {
      const message = `AlignedHeaderPolicy.free: 0x${address.toString(16)} was not allocated by this policy (${reason})`;
      expect(() => policy.free(address)).toThrow(new RangeError(message));
      expect(() => policy.reallocate(address, 10, 16, 'object')).toThrow(RangeError);
    }
    // The raw block address (may be a chunk's first byte: then it is "not inside any chunk").
    const raw = second - readHeader(policy, second).adjustment;
    expect(() => policy.free(raw)).toThrow(/^AlignedHeaderPolicy.free: 0x[0-9a-f]+ was not allocated by this policy/);
    // A forged header (right tag would need the address): still refused.
    const forged = a + 64;
    if (model.get(a)!.size >= 64) {
      const rec = policy.heap.chunkFor(forged)!;
      const w = (forged - rec.base) / 4;
      rec.i32.copyWithin(w - 4, (a - rec.base) / 4 - 4, (a - rec.base) / 4); // copy a's header
      expect(() => policy.free(forged)).toThrow(RangeError);
      fill(policy, a, model.get(a)!);
    }
    expect(policy.stats()).toEqual(stats);
    expect([source.obtains, source.releases]).toEqual(counts);
    verifyAll(policy, model);
    // Double free, also after the raw block was reused with another alignment.
    policy.free(a);
    model.delete(a);
    expect(() => policy.free(a)).toThrow(/was not allocated by this policy \(bad header tag\)/);
    const reuse = policy.allocate(model.get(second)!.size, 4096, 'object');
    expect(() => policy.free(a)).toThrow(RangeError);
    policy.free(reuse);
    policy.free(big);
    model.delete(big);
    expect(() => policy.free(big)).toThrow(/was not allocated by this policy \(not inside any chunk\)/);
    verifyAll(policy, model);
    for (const address of model.keys()) policy.free(address);
    expect(policy.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
  });

  test('empty slabs and dedicated chunks go back to the source', () => {
    const { source, policy } = newPolicy();
    const addresses: number[] = [];
    for (let i = 0; i < 2000; i++) addresses.push(policy.allocate(16 + (i % 8) * 16, 16, 'object'));
    for (let i = 0; i < 20; i++) addresses.push(policy.allocate(40000 + i, 16, 'object'));
    const held = source.live.size;
    expect(held).toBeGreaterThan(40);
    for (const address of addresses) policy.free(address);
    expect(source.releases).toBeGreaterThanOrEqual(held - 8);
    expect(source.live.size).toBeLessThanOrEqual(8); // one spare per class used
    expect(policy.stats().bytesHeld).toBe(source.liveBytes);
    policy.releaseAll();
    expect(source.live.size).toBe(0);
    expect(policy.stats()).toMatchObject({ chunks: 0, bytesHeld: 0, liveBlocks: 0 });
  });

  test('20k random operations keep every invariant', () => {
    const { source, policy } = newPolicy();
    const rnd = mulberry32(2024);
    const model = new Map<number, Block>();
    const addresses: number[] = [];
    let liveBytes = 0;
    const randomSize = () => Math.floor(rnd() ** 4 * MAX_TEST_SIZE);
    const randomAlignment = () => ALIGNMENTS[Math.floor(rnd() * 13)];
    const check = (address: number, b: Block) => {
      if (address % b.alignment !== 0 || !intact(policy, address, b)) {
        throw new Error(`block 0x${address.toString(16)} (${b.size} B, align ${b.alignment}) misaligned or overwritten`);
      }
    };
    for (let op = 0; op < 20000; op++) {
      const r = rnd();
      if (addresses.length === 0 || (r < 0.5 && addresses.length < 400)) {
        const size = randomSize();
        const alignment = randomAlignment();
        const address = policy.allocate(size, alignment, 'command');
        const b = { size, alignment, shift: shiftFor(address, op) };
        check(address, { ...b, size: 0 });
        if (model.has(address)) throw new Error(`0x${address.toString(16)} handed out twice`);
        fill(policy, address, b);
        model.set(address, b);
        addresses.push(address);
        liveBytes += size;
      } else {
        const i = Math.floor(rnd() * addresses.length);
        const address = addresses[i];
        const b = model.get(address)!;
        check(address, b);
        model.delete(address);
        if (r < 0.75) {
          const size = 1 + randomSize();
          const moved = policy.reallocate(address, size, b.alignment, 'device');
          const kept = Math.min(size, b.size);
          if (!bytesAt(policy, moved, kept).equals(REFERENCE.subarray(b.shift, b.shift + kept))) {
            throw new Error(`reallocate lost contents of 0x${address.toString(16)}`);
          }
          const nb = { size, alignment: b.alignment, shift: shiftFor(moved, op) };
          check(moved, { ...nb, size: 0 });
          fill(policy, moved, nb);
          model.set(moved, nb);
          addresses[i] = moved;
          liveBytes += size - b.size;
        } else {
          policy.free(address);
          addresses[i] = addresses[addresses.length - 1];
          addresses.pop();
          liveBytes -= b.size;
        }
      }
      if (op % 2500 === 0) verifyAll(policy, model);
      const s = policy.stats();
      if (s.liveBlocks !== model.size || s.liveBytes !== liveBytes || s.bytesHeld !== source.liveBytes) {
        throw new Error(`stats drifted at op ${op}: ${JSON.stringify(s)} vs ${model.size} blocks, ${liveBytes} B`);
      }
    }
    verifyAll(policy, model);
    expect(policy.stats()).toMatchObject({ rejected: 0, failures: 0 });
    for (const address of addresses) policy.free(address);
    expect(policy.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
    expect(source.live.size).toBeLessThanOrEqual(CLASS_COUNT);
  });

  test('memory overhead of 1000 allocations of 16 B..64 KiB', () => {
    const results: string[] = [];
    for (const [name, pick] of [
      ['log-uniform', (r: number) => Math.round(16 * 4096 ** r)],
      ['uniform', (r: number) => 16 + Math.floor(r * (65536 - 16))],
    ] as const) {
      for (const alignment of [16, 64]) {
        const { policy } = newPolicy();
        const rnd = mulberry32(31337);
        let requested = 0;
        for (let i = 0; i < 1000; i++) {
          const size = pick(rnd());
          requested += size;
          if (policy.allocate(size, alignment, 'object') === 0) throw new Error('allocation failed');
        }
        const s = policy.stats();
        expect(s.liveBytes).toBe(requested);
        const ratio = s.peakBytesHeld / requested;
        results.push(`${name} align ${alignment}: ${requested} B requested, ${s.peakBytesHeld} B held at peak ` +
          `(${s.chunks} chunks), ratio ${ratio.toFixed(3)}`);
        expect(ratio).toBeLessThan(1.5);
      }
    }
    console.log(results.join('\n'));
  });
});
