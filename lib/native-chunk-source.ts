// The default raw memory of TypeScript policies: chunks from native code
// (posix_memalign), never moved or collected while held, reached from TypeScript
// through an external ArrayBuffer. release() detaches the buffer before freeing.
import { AlignedHeaderPolicy } from './aligned-header-policy';
import native from './binding';
import type { ChunkSource, MemoryChunk } from './policy';

export const nativeChunkSource: ChunkSource = {
  obtain(size: number): MemoryChunk | null {
    return native.chunkObtain(size);
  },
  release(chunk: MemoryChunk): void {
    native.chunkRelease(chunk.buffer);
  },
};

AlignedHeaderPolicy.defaultSource ??= nativeChunkSource;
