// The pool in front of native chunks: reuse by exact size, a byte budget, honest accounting.
import { RetainingChunkSource } from '../../lib/allocator/native-chunk-source';
import { ArrayBufferChunkSource } from '../helpers/array-buffer-chunk-source';

test('released chunks are reused for the same size, within the budget, and counted as held', () => {
  const inner = new ArrayBufferChunkSource();
  const pool = new RetainingChunkSource(inner, 10000);
  const a = pool.obtain(4096)!;
  const b = pool.obtain(8192)!;
  expect(pool.heldBytes).toBe(4096 + 8192);
  pool.release(a);               // kept: 4096 <= 10000
  pool.release(b);               // over budget: given back
  expect(pool.retainedBytes).toBe(4096);
  expect(pool.heldBytes).toBe(4096);
  expect(pool.obtain(4096)).toBe(a);  // reused, no new memory
  expect(pool.obtain(8192)).not.toBe(b);
  expect(pool.peakHeldBytes).toBe(4096 + 8192);
  pool.release(a);
  pool.trim();
  expect(pool.retainedBytes).toBe(0);
  expect(a.buffer.byteLength).toBe(0);  // given back to the inner source (detached)
});
