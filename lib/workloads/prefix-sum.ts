// A prefix sum (inclusive scan) of uint32 values on the GPU, the compute job of the
// demo and the tests: every Vulkan object it makes (shader modules, layouts,
// pipelines, command pool and buffer, descriptor pool and sets, buffers, memory,
// fence) is made with one allocator, and nothing in it assumes a CPU driver:
//  - the workgroup size is a specialization constant chosen within the device's limits;
//  - slices are scanned in shared memory without subgroup operations;
//  - workgroups are laid out in 2D when there are more than maxComputeWorkGroupCount[0];
//  - the data lives in device-local memory when there is some, reached through a
//    host-visible staging buffer (flushed / invalidated when it is not host-coherent);
//  - descriptor offsets honour minStorageBufferOffsetAlignment.
// Algorithm: scan each slice of `workgroupSize` elements and store slice totals; scan
// the totals the same way, level by level, until one value (the grand total) is left;
// then add each level's scanned totals back into the level below.
// run() waits for the GPU on the JS thread; runAsync() records and submits the same
// way, then waits off it (fence.waitAsync()), so timers and I/O go on meanwhile.
import type { CommandPool } from '../vulkan/command-pool';
import type { DescriptorSetLayout } from '../vulkan/descriptor';
import type { Device } from '../vulkan/device';
import type { MemoryProperty } from '../util/flags';
import type { HostAllocator } from '../allocator/host-allocator';
import type { DeviceMemory } from '../vulkan/memory';
import type { ComputePipeline, PipelineCache, PipelineLayout } from '../vulkan/pipeline';
import { Fence } from '../vulkan/fence';
import type { Queue } from '../vulkan/queue';
import { loadShader } from './shaders';
import * as is from '../util/is';

export interface PrefixSumOptions {
  /** The allocator of every object this job creates (default: the driver's own). */
  allocator?: HostAllocator | null;
  /** A queue family with compute (default: the first of the device's that has it). */
  queueFamily?: number;
  /** Threads per workgroup (default: up to 256 within the device's limits). */
  workgroupSize?: number;
  /** A pipeline cache to create the pipelines with. */
  cache?: PipelineCache;
}

export interface PrefixSumResult {
  /** output[i] = input[0] + … + input[i] (mod 2^32). */
  output: Uint32Array;
  /** The sum of all input values (mod 2^32), computed on the GPU as the last level of the scan. */
  total: number;
  /** Dispatches recorded (scan and add passes). */
  dispatches: number;
}

/** A run recorded and submitted (PrefixSum.#submit), not yet waited for. */
interface SubmittedRun {
  fence: Fence;
  queue: Queue;
  /** Reads the result back (after the fence signaled). */
  result(): PrefixSumResult;
  timedOut(): Error;
  /** Destroys what the run made (once the GPU is done with it). */
  release(): void;
}

/** The same scan on the CPU, to check the GPU against. */
export function prefixSumOnCpu(input: Uint32Array): Uint32Array {
  const out = new Uint32Array(input.length);
  let sum = 0;
  for (let i = 0; i < input.length; i++) out[i] = sum = (sum + input[i]) >>> 0;
  return out;
}

/** A bound buffer with its own memory, of a type that has `required` and preferably `preferred`. */
function boundBuffer(device: Device, size: number, usage: Parameters<Device['createBuffer']>[0]['usage'],
  required: MemoryProperty[], preferred: MemoryProperty[], allocator: HostAllocator | null) {
  const buffer = device.createBuffer({ size, usage }, { allocator });
  const req = buffer.memoryRequirements;
  const memoryType = device.physicalDevice.findMemoryType(req.memoryTypeBits, required, preferred);
  if (memoryType < 0) throw new Error(`No memory type with ${required.join(', ') || 'any property'} for a buffer of usage ${JSON.stringify(usage)}`);
  const memory = device.allocateMemory({ size: req.size, memoryType }, { allocator });
  buffer.bindMemory(memory);
  return { buffer, memory };
}

export class PrefixSum {
  readonly device: Device;
  readonly workgroupSize: number;
  readonly queueFamily: number;
  readonly #allocator: HostAllocator | null;
  readonly #setLayout: DescriptorSetLayout;
  readonly #layout: PipelineLayout;
  readonly #scan: ComputePipeline;
  readonly #add: ComputePipeline;
  readonly #pool: CommandPool;
  /** runAsync() calls not yet settled: destroy() refuses meanwhile. */
  #running = 0;

  constructor(device: Device, options?: PrefixSumOptions) {
    const o = is.options(options, 'options', ['allocator', 'queueFamily', 'workgroupSize', 'cache'] as const);
    this.device = device;
    const allocator = (o.allocator ?? null) as HostAllocator | null;
    this.#allocator = allocator;
    const limits = device.physicalDevice.limits;
    const maxWorkgroup = Math.min(limits.maxComputeWorkGroupSize[0], limits.maxComputeWorkGroupInvocations,
      Math.floor(limits.maxComputeSharedMemorySize / 4));
    if (o.workgroupSize !== undefined) {
      this.workgroupSize = is.integer(o.workgroupSize, 'workgroupSize', 2, maxWorkgroup);
    } else {
      let size = 1;
      while (size * 2 <= Math.min(256, maxWorkgroup)) size *= 2;
      this.workgroupSize = size;
    }
    const computeFamilies = device.queueFamilies.filter((f) => device.physicalDevice.queueFamilies[f].capabilities.includes('compute'));
    this.queueFamily = o.queueFamily === undefined ? computeFamilies[0] ?? -1 : is.nonNegativeInteger(o.queueFamily, 'queueFamily');
    if (!computeFamilies.includes(this.queueFamily)) throw new Error('PrefixSum needs a device created with a compute queue family');

    const withAllocator = { allocator };
    this.#setLayout = device.createDescriptorSetLayout({
      bindings: [{ binding: 0, type: 'storage-buffer' }, { binding: 1, type: 'storage-buffer' }],
    }, withAllocator);
    this.#layout = device.createPipelineLayout({
      setLayouts: [this.#setLayout], pushConstantRanges: [{ stages: ['compute'], offset: 0, size: 4 }],
    }, withAllocator);
    const specialization = { 0: this.workgroupSize };
    const cache = o.cache as PipelineCache | undefined;
    const scanModule = device.createShaderModule({ code: loadShader('scan') }, withAllocator);
    const addModule = device.createShaderModule({ code: loadShader('scan_add') }, withAllocator);
    try {
      this.#scan = device.createComputePipeline({ layout: this.#layout, module: scanModule, specialization, cache }, withAllocator);
      this.#add = device.createComputePipeline({ layout: this.#layout, module: addModule, specialization, cache }, withAllocator);
    } finally {
      // A pipeline keeps what it needs: its modules can go now.
      scanModule.destroy();
      addModule.destroy();
    }
    this.#pool = device.createCommandPool({ queueFamily: this.queueFamily, flags: ['transient'] }, withAllocator);
  }

  /** Workgroups for `count` elements, as x by y within maxComputeWorkGroupCount. */
  #groups(count: number): [number, number] {
    const slices = Math.ceil(count / this.workgroupSize);
    const max = this.device.physicalDevice.limits.maxComputeWorkGroupCount;
    const x = Math.min(slices, max[0]);
    const y = Math.ceil(slices / x);
    if (y > max[1]) throw new RangeError(`${count} elements need more workgroups than this device can dispatch`);
    return [x, y];
  }

  /** Scans `input` on the GPU; waits up to `timeoutNs` (default 60 s) for it, blocking the JS thread. */
  run(input: Uint32Array, timeoutNs = 60e9): PrefixSumResult {
    const job = this.#submit(input, timeoutNs);
    try {
      if (job.fence.wait(timeoutNs) === 'timeout') {
        job.queue.waitIdle();  // nothing may be destroyed while the GPU still uses it
        throw job.timedOut();
      }
      return job.result();
    } finally {
      job.release();
    }
  }

  /**
   * run() without blocking the event loop: records and submits now (input errors throw
   * at the call), then waits off the JS thread; the promise resolves with the result, or
   * rejects on a timeout or with a VulkanError. Until it settles, destroy() throws.
   */
  runAsync(input: Uint32Array, timeoutNs = 60e9): Promise<PrefixSumResult> {
    const job = this.#submit(input, timeoutNs);
    this.#running++;
    return (async () => {
      try {
        if (await Fence.waitAsyncAs(job.fence, timeoutNs, 'PrefixSum.runAsync()') === 'timeout') {
          await Fence.waitAsyncAs(job.fence, Infinity, 'PrefixSum.runAsync()');  // as run(): the GPU first
          throw job.timedOut();
        }
        return job.result();
      } finally {
        job.release();
        this.#running--;
      }
    })();
  }

  /** Checks, creates, records and submits a run; what is left is waiting for `fence`, then result() and release(). */
  #submit(input: Uint32Array, timeoutNs: number): SubmittedRun {
    if (!(input instanceof Uint32Array)) is.fail('type', 'a Uint32Array', 'input', input);
    if (typeof timeoutNs !== 'number') is.fail('type', 'a non-negative number of nanoseconds', 'timeoutNs', timeoutNs);
    if (!(timeoutNs >= 0)) is.fail('range', 'a non-negative number of nanoseconds', 'timeoutNs', timeoutNs);
    if (input.length === 0) is.fail('range', 'a non-empty Uint32Array', 'input', input);
    const device = this.device;
    const limits = device.physicalDevice.limits;
    if (input.byteLength > limits.maxStorageBufferRange) {
      throw new RangeError(`${input.length} elements exceed this device's maxStorageBufferRange (${limits.maxStorageBufferRange} bytes)`);
    }
    const allocator = this.#allocator;
    const withAllocator = { allocator };
    const w = this.workgroupSize;

    // Level sizes: the input, then slice totals, down to the single grand total.
    const counts = [input.length];
    do counts.push(Math.ceil(counts[counts.length - 1] / w)); while (counts[counts.length - 1] > 1);
    const align = Math.max(4, limits.minStorageBufferOffsetAlignment);
    const offsets: number[] = [];  // levels 1.. in the sums buffer
    let sumsSize = 0;
    for (let level = 1; level < counts.length; level++) {
      offsets[level] = sumsSize;
      sumsSize += Math.ceil((counts[level] * 4) / align) * align;
    }
    const bytes = input.byteLength;
    const owned: { destroy(): void }[] = [];
    try {
      const data = boundBuffer(device, bytes, ['storage', 'transfer-src', 'transfer-dst'], [], ['device-local'], allocator);
      const sums = boundBuffer(device, sumsSize, ['storage', 'transfer-src'], [], ['device-local'], allocator);
      const staging = boundBuffer(device, bytes + 4, ['transfer-src', 'transfer-dst'], ['host-visible'], ['host-coherent', 'host-cached'], allocator);
      owned.push(staging.buffer, staging.memory, sums.buffer, sums.memory, data.buffer, data.memory);
      upload(staging.memory, input);

      const passes = counts.length - 1;
      const descriptorPool = device.createDescriptorPool({ maxSets: passes, sizes: { 'storage-buffer': 2 * passes } }, withAllocator);
      owned.unshift(descriptorPool);
      const sets = descriptorPool.allocateSets(new Array(passes).fill(this.#setLayout));
      const range = (level: number) => (level === 0
        ? { buffer: data.buffer, offset: 0, range: bytes }
        : { buffer: sums.buffer, offset: offsets[level], range: counts[level] * 4 });
      sets.forEach((set, level) => set.update([{ binding: 0, buffers: [range(level)] }, { binding: 1, buffers: [range(level + 1)] }]));

      const cb = this.#pool.allocateCommandBuffer();
      owned.unshift(cb);
      cb.begin({ usage: ['one-time-submit'] });
      cb.copyBuffer(staging.buffer, data.buffer, [{ size: bytes }]);
      cb.pipelineBarrier({ srcStage: 'transfer', dstStage: 'compute-shader', memory: [{ srcAccess: 'transfer-write', dstAccess: ['shader-read', 'shader-write'] }] });
      const between = () => cb.pipelineBarrier({
        srcStage: 'compute-shader', dstStage: 'compute-shader', memory: [{ srcAccess: 'shader-write', dstAccess: ['shader-read', 'shader-write'] }],
      });
      const count = new Uint32Array(1);
      let dispatches = 0;
      const pass = (level: number) => {
        cb.bindDescriptorSets(this.#layout, [sets[level]]);
        count[0] = counts[level];
        cb.pushConstants(this.#layout, count);
        cb.dispatch(...this.#groups(counts[level]));
        between();
        dispatches++;
      };
      cb.bindPipeline(this.#scan);
      for (let level = 0; level < passes; level++) pass(level);
      cb.bindPipeline(this.#add);
      for (let level = passes - 2; level >= 0; level--) pass(level);
      cb.pipelineBarrier({ srcStage: 'compute-shader', dstStage: 'transfer', memory: [{ srcAccess: 'shader-write', dstAccess: 'transfer-read' }] });
      cb.copyBuffer(data.buffer, staging.buffer, [{ size: bytes }]);
      cb.copyBuffer(sums.buffer, staging.buffer, [{ srcOffset: offsets[passes], dstOffset: bytes, size: 4 }]);
      cb.pipelineBarrier({ srcStage: 'transfer', dstStage: 'host', memory: [{ srcAccess: 'transfer-write', dstAccess: 'host-read' }] });
      cb.end();

      const fence = device.createFence({}, withAllocator);
      owned.unshift(fence);
      const queue = device.queue(this.queueFamily);
      queue.submit([{ commandBuffers: [cb] }], fence);
      return {
        fence,
        queue,
        result: () => {
          const result = download(staging.memory, input.length + 1);
          return { output: result.subarray(0, input.length), total: result[input.length], dispatches };
        },
        timedOut: () => new Error(`The prefix sum of ${input.length} elements did not finish within ${timeoutNs / 1e9} s`),
        release: () => {
          for (const object of owned) object.destroy();
        },
      };
    } catch (e) {
      for (const object of owned) object.destroy();  // nothing was submitted
      throw e;
    }
  }

  /** Destroys the pipelines, layouts and command pool. */
  destroy(): void {
    if (this.#running > 0) throw new Error('Cannot destroy this PrefixSum while a runAsync() is pending: await it first');
    for (const object of [this.#pool, this.#add, this.#scan, this.#layout, this.#setLayout]) object.destroy();
  }
}

/** Writes `words` at the start of host-visible `memory`, flushing when it is not host-coherent. */
export function upload(memory: DeviceMemory, words: Uint32Array): void {
  new Uint32Array(memory.map(0, words.byteLength)).set(words);
  if (!memory.memoryType.properties.includes('host-coherent')) memory.flush();
  memory.unmap();
}

/** Reads `count` words from the start of host-visible `memory` (a copy), invalidating first when it is not host-coherent. */
export function download(memory: DeviceMemory, count: number): Uint32Array {
  const mapped = memory.map(0, count * 4);
  if (!memory.memoryType.properties.includes('host-coherent')) memory.invalidate();
  const copy = new Uint32Array(mapped.slice(0));
  memory.unmap();
  return copy;
}
