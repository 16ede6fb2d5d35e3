// Small building blocks for tests of GPU work: buffers bound to memory chosen by
// properties (never assuming a CPU driver's single memory type), and one-shot
// command buffers submitted and waited for.
import type { Buffer, BufferOptions } from '../../lib/vulkan/buffer';
import type { CommandBuffer } from '../../lib/vulkan/command-buffer';
import type { CommandPool } from '../../lib/vulkan/command-pool';
import type { Device } from '../../lib/vulkan/device';
import type { MemoryProperty } from '../../lib/util/flags';
import type { HostAllocator } from '../../lib/allocator/host-allocator';
import type { DeviceMemory } from '../../lib/vulkan/memory';
import { download, upload } from '../../lib/workloads/prefix-sum';

export { download, upload };

/** A buffer with memory of its own: `host` (mappable, preferably coherent and cached) or device-local when there is some. */
export function makeBuffer(device: Device, size: number, usage: BufferOptions['usage'], where: 'host' | 'device',
  allocator: HostAllocator | null = null): { buffer: Buffer; memory: DeviceMemory } {
  const buffer = device.createBuffer({ size, usage }, { allocator });
  const req = buffer.memoryRequirements;
  const [required, preferred]: MemoryProperty[][] = where === 'host'
    ? [['host-visible'], ['host-coherent', 'host-cached']] : [[], ['device-local']];
  const memoryType = device.physicalDevice.findMemoryType(req.memoryTypeBits, required, preferred);
  if (memoryType < 0) throw new Error(`no memory type for a ${where} buffer`);
  const memory = device.allocateMemory({ size: req.size, memoryType }, { allocator });
  buffer.bindMemory(memory);
  return { buffer, memory };
}

/** Records with `record` into a fresh one-time command buffer of `pool`, submits it on the pool's family and waits. */
export function runOnce(device: Device, pool: CommandPool, record: (cb: CommandBuffer) => void): void {
  const cb = pool.allocateCommandBuffer();
  cb.begin({ usage: ['one-time-submit'] });
  record(cb);
  cb.end();
  const fence = device.createFence({}, { allocator: pool.allocator });
  device.queue(pool.queueFamily).submit([{ commandBuffers: [cb] }], fence);
  const result = fence.wait(60e9);
  fence.destroy();
  cb.destroy();
  if (result !== 'success') throw new Error('GPU work did not finish within 60 s');
}

/** Deterministic pseudo-random uint32 values below `below`. */
export function randomWords(count: number, below = 2 ** 32, seed = 1): Uint32Array {
  const out = new Uint32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = below === 2 ** 32 ? s : s % below;
  }
  return out;
}
