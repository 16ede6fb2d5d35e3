// Device: creates device-level objects; destroying it destroys them first. It also
// keeps the book of asynchronous waits on itself and its objects (fence.waitAsync(),
// queue.submitAsync(), device.waitIdleAsync()): destroy() refuses while any is pending,
// and while device.waitIdleAsync() is pending its queues are the wait's (Vulkan wants
// vkDeviceWaitIdle to have every queue of the device to itself).
import { Native } from '../native/binding';
import { Buffer, BufferOptions } from './buffer';
import { CommandPool, CommandPoolOptions, commandPoolInfo } from './command-pool';
import {
  DescriptorPool, DescriptorPoolOptions, descriptorPoolInfo, DescriptorSetLayout, DescriptorSetLayoutOptions, descriptorSetLayoutInfo,
} from './descriptor';
import { Fence } from './fence';
import { BUFFER_USAGE, DESCRIPTOR_TYPE, FORMAT } from '../util/flags';
import { allocatorOption, HostAllocator } from '../allocator/host-allocator';
import { Image, imageInfo, ImageOptions } from './image';
import type { AllocatorOptions } from './instance';
import { DeviceMemory } from './memory';
import type { PhysicalDevice } from './physical-device';
import {
  ComputePipeline, ComputePipelineOptions, computePipelineInfo, PipelineCache, pipelineCacheInfo, PipelineLayout, pipelineLayoutInfo,
  PipelineLayoutOptions,
} from './pipeline';
import { Queue } from './queue';
import { checkConstruct, CONSTRUCT, VulkanObject } from './resource';
import { Semaphore, semaphoreInfo, SemaphoreOptions } from './semaphore';
import { parseSpirv, ShaderModule } from './shader-module';
import * as is from '../util/is';

// Node runs no environment cleanup hook for process.exit() on the main thread, so the
// native teardown that waits for the GPU does not run then: work still in flight, or a
// wait's thread still in the driver, while the process's static destructors run
// crashed SwiftShader. The devices that submitted work or waited asynchronously are
// quiesced on 'exit' instead (this module's: each worker has its own).
const activeDevices = new Map<Device, Native.Device>();
let exitHookInstalled = false;

function quiesceAll(): void {
  for (const native of activeDevices.values()) {
    try {
      native.quiesce();
    } catch {
      // nothing may stop the exit
    }
  }
}

export class Device extends VulkanObject<Native.Device> {
  readonly physicalDevice: PhysicalDevice;
  readonly allocator: HostAllocator | null;
  /** Queue counts per family, as created. */
  readonly #queueCounts: Map<number, number>;
  readonly #queues = new Map<string, Queue>();
  /** The optional features enabled at creation. */
  readonly features: Readonly<DeviceFeatures>;
  /** Queues with work submitted since their last waitIdle(): destroy() waits for them first. */
  readonly #busy = new Set<Queue>();
  /** Asynchronous waits not yet settled, by call ('fence.waitAsync()', ...). */
  readonly #waits = new Map<string, number>();
  /** The pending waitIdleAsync(), if any. */
  #idling: Promise<void> | null = null;

  /** @internal */
  constructor(token: unknown, handle: Native.Device, physicalDevice: PhysicalDevice, allocator: HostAllocator | null,
    queues: { family: number; priorities: number[] }[], features: DeviceFeatures = { timelineSemaphore: false }) {
    checkConstruct(token, 'Device');
    super(handle);
    this.physicalDevice = physicalDevice;
    this.allocator = allocator;
    this.#queueCounts = new Map(queues.map((q) => [q.family, q.priorities.length]));
    this.features = Object.freeze({ ...features });
  }

  /** @internal */
  static handleOf(device: Device): Native.Device {
    return Device.nativeOf(device);
  }

  /** The queue families this device was created with. */
  get queueFamilies(): number[] {
    return [...this.#queueCounts.keys()];
  }

  /** @internal A queue of this device was given work (Queue.submit). */
  noteSubmit(queue: Queue): void {
    this.#busy.add(queue);
    this.#quiesceAtExit();
  }

  #quiesceAtExit(): void {
    if (activeDevices.has(this)) return;
    for (const device of activeDevices.keys()) if (device.destroyed) activeDevices.delete(device);
    activeDevices.set(this, Device.nativeOf(this));
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', quiesceAll);
    }
  }

  /** @internal A queue (or, without one, the whole device) was waited idle. */
  noteIdle(queue?: Queue): void {
    if (queue) this.#busy.delete(queue);
    else this.#busy.clear();
  }

  /**
   * Destroys the device and everything made from it. When work was submitted since the
   * last waitIdle(), it first waits for the device to be idle (vkDeviceWaitIdle), so
   * that nothing the GPU still uses is destroyed under it.
   */
  override destroy(...args: unknown[]): void {
    if (args.length === 0) this.settle();
    super.destroy(...args);
    activeDevices.delete(this);
  }

  /** @internal Counts `promise` as a pending wait (`what`) until it settles: destroy() refuses meanwhile. */
  trackWait<T>(what: string, promise: Promise<T>): Promise<T> {
    this.#waits.set(what, (this.#waits.get(what) ?? 0) + 1);
    this.#quiesceAtExit();
    const done = () => {
      const left = this.#waits.get(what)! - 1;
      if (left === 0) this.#waits.delete(what);
      else this.#waits.set(what, left);
    };
    return promise.then((value) => {
      done();
      return value;
    }, (error: unknown) => {
      done();
      throw error;
    });
  }

  /** @internal Throws while waitIdleAsync() is pending: `call` would use a queue it has to itself. */
  checkNotIdling(call: string): void {
    if (this.#idling) throw new Error(`Cannot call ${call} while device.waitIdleAsync() is pending: await it first`);
  }

  /**
   * @internal Before destroying: refuses while asynchronous waits are pending, then waits
   * for submitted work to finish, if any (a lost device is destroyed all the same).
   */
  settle(): void {
    if (this.destroyed) return;
    if (this.#waits.size > 0) {
      const pending = [...this.#waits].map(([what, n]) => (n > 1 ? `${n} × ${what}` : what)).join(', ');
      throw new Error(`Cannot destroy this Device while asynchronous waits on it are pending (${pending}): await them first`);
    }
    if (this.#busy.size === 0) return;
    try {
      this.waitIdle();
    } catch {
      // VK_ERROR_DEVICE_LOST: nothing runs any more; destroying is what is left to do.
    }
    this.#busy.clear();
  }

  /** The queue `index` of `family` (one of those asked for in createDevice). */
  queue(family: number, index = 0): Queue {
    const handle = Device.liveNativeOf(this);
    is.nonNegativeInteger(family, 'family');
    const count = this.#queueCounts.get(family);
    if (count === undefined) {
      throw new RangeError(`Expected a queue family this device was created with (${[...this.#queueCounts.keys()].join(', ')}) for family but received ${family}`);
    }
    is.integer(index, 'index', 0, count - 1);
    const key = `${family}:${index}`;
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = new Queue(CONSTRUCT, handle.queue(family, index), this, family, index);
      this.#queues.set(key, queue);
    }
    return queue;
  }

  createBuffer(options: BufferOptions, allocatorOptions?: AllocatorOptions): Buffer {
    const handle = Device.liveNativeOf(this);
    const o = is.options(options, 'options', ['size', 'usage'] as const);
    const size = is.positiveInteger(o.size, 'size');
    const usage = is.flags(o.usage, 'usage', BUFFER_USAGE);
    if (usage === 0) is.fail('range', 'at least one usage flag', 'usage', o.usage);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createBuffer options');
    return new Buffer(CONSTRUCT, handle.createBuffer({ size, usage, flags: 0 }, bridge), this, allocator, size, usage);
  }

  /** Allocates device memory of `memoryType` (an index, e.g. from physicalDevice.findMemoryType()). */
  allocateMemory(options: { size: number; memoryType: number }, allocatorOptions?: AllocatorOptions): DeviceMemory {
    const handle = Device.liveNativeOf(this);
    const o = is.options(options, 'options', ['size', 'memoryType'] as const);
    const size = is.positiveInteger(o.size, 'size');
    const types = this.physicalDevice.memoryTypes;
    const memoryType = is.integer(o.memoryType, 'memoryType', 0, types.length - 1);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'allocateMemory options');
    const memory = handle.allocateMemory({ size, memoryTypeIndex: memoryType }, bridge);
    return new DeviceMemory(CONSTRUCT, memory, this, allocator, size, types[memoryType]);
  }

  createFence(options?: { signaled?: boolean }, allocatorOptions?: AllocatorOptions): Fence {
    const handle = Device.liveNativeOf(this);
    const o = is.options(options, 'options', ['signaled'] as const);
    const signaled = o.signaled === undefined ? false : is.boolean(o.signaled, 'signaled');
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createFence options');
    return new Fence(CONSTRUCT, handle.createFence({ signaled }, bridge), this, allocator);
  }

  /** vkDeviceWaitIdle: every queue of this device finishes its work. */
  waitIdle(): void {
    const handle = Device.nativeOf(this);
    this.checkNotIdling('device.waitIdle()');
    handle.waitIdle();
    this.#busy.clear();
  }

  /**
   * waitIdle() without blocking the event loop: vkDeviceWaitIdle runs on a thread of its
   * own and the promise resolves on the JS thread, or rejects with a VulkanError. Until
   * it settles the device's queues are the wait's: submit(), submitAsync() and
   * waitIdle() on them, device.waitIdle() and destroy() throw; calling it again returns
   * the pending promise.
   */
  waitIdleAsync(): Promise<void> {
    const handle = Device.liveNativeOf(this);
    if (this.#idling) return this.#idling;
    const native = handle.waitIdleAsync();
    const idle = (async () => {
      try {
        await native;
        this.#busy.clear();  // nothing could be submitted meanwhile
      } finally {
        this.#idling = null;
      }
    })();
    this.#idling = this.trackWait('device.waitIdleAsync()', idle);
    return this.#idling;
  }

  /** A binary semaphore, or a timeline one (the device needs features: { timelineSemaphore: true }). */
  createSemaphore(options?: SemaphoreOptions, allocatorOptions?: AllocatorOptions): Semaphore {
    const handle = Device.liveNativeOf(this);
    const info = semaphoreInfo(options, this);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createSemaphore options');
    return new Semaphore(CONSTRUCT, handle.createSemaphore({ timeline: info.timeline, initialValue: info.initialValue }, bridge),
      this, allocator, info.type);
  }

  /** A pool for command buffers run by queues of `queueFamily`; its allocator also serves its command buffers. */
  createCommandPool(options: CommandPoolOptions, allocatorOptions?: AllocatorOptions): CommandPool {
    const handle = Device.liveNativeOf(this);
    const info = commandPoolInfo(options, this);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createCommandPool options');
    return new CommandPool(CONSTRUCT, handle.createCommandPool(info, bridge), this, allocator, info.queueFamily, info.flags);
  }

  /** A shader module from SPIR-V (a Uint32Array, or a Buffer/Uint8Array of whole words), checked before the driver sees it. */
  createShaderModule(options: { code: Uint32Array | Uint8Array }, allocatorOptions?: AllocatorOptions): ShaderModule {
    const handle = Device.liveNativeOf(this);
    const o = is.options(options, 'options', ['code'] as const);
    const spirv = parseSpirv(o.code, 'code');
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createShaderModule options');
    return new ShaderModule(CONSTRUCT, handle.createShaderModule({ code: spirv.words }, bridge), this, allocator, spirv);
  }

  createDescriptorSetLayout(options: DescriptorSetLayoutOptions, allocatorOptions?: AllocatorOptions): DescriptorSetLayout {
    const handle = Device.liveNativeOf(this);
    const bindings = descriptorSetLayoutInfo(options);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createDescriptorSetLayout options');
    const nativeBindings = bindings.map((b) => ({ ...b, type: DESCRIPTOR_TYPE[b.type] }));
    return new DescriptorSetLayout(CONSTRUCT, handle.createDescriptorSetLayout({ bindings: nativeBindings }, bridge), this, allocator, bindings);
  }

  /** A pool of descriptor sets; its allocator also serves the sets allocated from it. */
  createDescriptorPool(options: DescriptorPoolOptions, allocatorOptions?: AllocatorOptions): DescriptorPool {
    const handle = Device.liveNativeOf(this);
    const info = descriptorPoolInfo(options);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createDescriptorPool options');
    return new DescriptorPool(CONSTRUCT, handle.createDescriptorPool(info, bridge), this, allocator, info.maxSets, info.flags);
  }

  createPipelineLayout(options?: PipelineLayoutOptions, allocatorOptions?: AllocatorOptions): PipelineLayout {
    const handle = Device.liveNativeOf(this);
    const { setLayouts, ranges } = pipelineLayoutInfo(options, this);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createPipelineLayout options');
    const native = handle.createPipelineLayout(
      { setLayouts: setLayouts.map((l) => DescriptorSetLayout.handleOf(l)), pushConstantRanges: ranges }, bridge);
    return new PipelineLayout(CONSTRUCT, native, this, allocator, setLayouts, ranges);
  }

  /** A pipeline cache, empty or from bytes an earlier cache's data() returned. */
  createPipelineCache(options?: { initialData?: Uint8Array }, allocatorOptions?: AllocatorOptions): PipelineCache {
    const handle = Device.liveNativeOf(this);
    const info = pipelineCacheInfo(options);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createPipelineCache options');
    return new PipelineCache(CONSTRUCT, handle.createPipelineCache(info, bridge), this, allocator);
  }

  /** vkCreateComputePipelines for one pipeline: an entry point of a module, specialized, with a layout (and a cache). */
  createComputePipeline(options: ComputePipelineOptions, allocatorOptions?: AllocatorOptions): ComputePipeline {
    const handle = Device.liveNativeOf(this);
    const info = computePipelineInfo(options, this);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createComputePipeline options');
    return new ComputePipeline(CONSTRUCT, handle.createComputePipeline(info.native, bridge), this, allocator, info.layout, info.entryPoint);
  }

  /** A 2D image (one mip level and layer), e.g. a storage image: bind memory, then createView(). */
  createImage(options: ImageOptions, allocatorOptions?: AllocatorOptions): Image {
    const handle = Device.liveNativeOf(this);
    const info = imageInfo(options, this);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createImage options');
    const native = handle.createImage({ ...info, format: FORMAT[info.format].value }, bridge);
    return new Image(CONSTRUCT, native, this, allocator, info);
  }
}

export interface DeviceFeatures {
  /** Timeline semaphores (Vulkan 1.2). */
  timelineSemaphore: boolean;
}
