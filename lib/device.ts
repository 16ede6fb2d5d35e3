// Device: creates device-level objects; destroying it destroys them first.
import { Native } from './binding';
import { Buffer, BufferOptions } from './buffer';
import { Fence } from './fence';
import { BUFFER_USAGE } from './flags';
import { allocatorOption, HostAllocator } from './host-allocator';
import type { AllocatorOptions } from './instance';
import { DeviceMemory } from './memory';
import type { PhysicalDevice } from './physical-device';
import { Queue } from './queue';
import { checkConstruct, CONSTRUCT, VulkanObject } from './resource';
import * as is from './validate';

export class Device extends VulkanObject<Native.Device> {
  readonly physicalDevice: PhysicalDevice;
  readonly allocator: HostAllocator | null;
  /** Queue counts per family, as created. */
  readonly #queueCounts: Map<number, number>;
  readonly #queues = new Map<string, Queue>();

  /** @internal */
  constructor(token: unknown, handle: Native.Device, physicalDevice: PhysicalDevice, allocator: HostAllocator | null,
              queues: { family: number; priorities: number[] }[]) {
    checkConstruct(token, 'Device');
    super(handle);
    this.physicalDevice = physicalDevice;
    this.allocator = allocator;
    this.#queueCounts = new Map(queues.map((q) => [q.family, q.priorities.length]));
  }

  /** The queue `index` of `family` (one of those asked for in createDevice). */
  queue(family: number, index = 0): Queue {
    const handle = Device.nativeOf(this);
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
    const handle = Device.nativeOf(this);
    const o = is.options(options, 'options', ['size', 'usage'] as const);
    const size = is.positiveInteger(o.size, 'size');
    const usage = is.flags(o.usage, 'usage', BUFFER_USAGE);
    if (usage === 0) is.fail('range', 'at least one usage flag', 'usage', o.usage);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createBuffer options');
    return new Buffer(CONSTRUCT, handle.createBuffer({ size, usage, flags: 0 }, bridge), this, allocator, size, usage);
  }

  /** Allocates device memory of `memoryType` (an index, e.g. from physicalDevice.findMemoryType()). */
  allocateMemory(options: { size: number; memoryType: number }, allocatorOptions?: AllocatorOptions): DeviceMemory {
    const handle = Device.nativeOf(this);
    const o = is.options(options, 'options', ['size', 'memoryType'] as const);
    const size = is.positiveInteger(o.size, 'size');
    const types = this.physicalDevice.memoryTypes;
    const memoryType = is.integer(o.memoryType, 'memoryType', 0, types.length - 1);
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'allocateMemory options');
    const memory = handle.allocateMemory({ size, memoryTypeIndex: memoryType }, bridge);
    return new DeviceMemory(CONSTRUCT, memory, this, allocator, size, types[memoryType]);
  }

  createFence(options?: { signaled?: boolean }, allocatorOptions?: AllocatorOptions): Fence {
    const handle = Device.nativeOf(this);
    const o = is.options(options, 'options', ['signaled'] as const);
    const signaled = o.signaled === undefined ? false : is.boolean(o.signaled, 'signaled');
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createFence options');
    return new Fence(CONSTRUCT, handle.createFence({ signaled }, bridge), this, allocator);
  }

  /** vkDeviceWaitIdle: every queue of this device finishes its work. */
  waitIdle(): void {
    Device.nativeOf(this).waitIdle();
  }
}

/** Throws unless `object` was made by `device` (objects of two devices never mix). */
export function checkSameDevice(device: Device, object: { device: Device }, name: string, type: string): void {
  if (object.device !== device) throw new Error(`${name} belongs to a different Device than this ${type}`);
}
