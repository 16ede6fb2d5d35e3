// Buffer: memory requirements and binding to DeviceMemory.
import { Native } from '../native/binding';
import type { Device } from './device';
import { BufferUsage } from '../util/flags';
import type { HostAllocator } from '../allocator/host-allocator';
import { DeviceMemory } from './memory';
import { checkConstruct, checkSameDevice, VulkanObject } from './resource';
import * as is from '../util/is';

export interface BufferOptions {
  size: number;
  /** Names ('storage', 'transfer-dst', …) or a VkBufferUsageFlags number. */
  usage: BufferUsage[] | number;
}

export interface MemoryRequirements {
  size: number;
  alignment: number;
  memoryTypeBits: number;
}

export class Buffer extends VulkanObject<Native.Buffer> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly size: number;
  readonly usage: number;
  #requirements: MemoryRequirements | null = null;
  #bound: { memory: DeviceMemory; offset: number } | null = null;

  /** @internal */
  constructor(token: unknown, handle: Native.Buffer, device: Device, allocator: HostAllocator | null, size: number, usage: number) {
    checkConstruct(token, 'Buffer');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.size = size;
    this.usage = usage;
  }

  /** vkGetBufferMemoryRequirements (asked once). */
  get memoryRequirements(): MemoryRequirements {
    const handle = Buffer.nativeOf(this);
    if (handle.destroyed) handle.memoryRequirements();  // throws "Buffer is destroyed"
    return (this.#requirements ??= Object.freeze(handle.memoryRequirements()));
  }

  /** The memory this buffer is bound to, once bindMemory() succeeded. */
  get boundMemory(): { memory: DeviceMemory; offset: number } | null {
    return this.#bound;
  }

  bindMemory(memory: DeviceMemory, offset = 0): void {
    const handle = Buffer.nativeOf(this);
    is.instanceOf(memory, 'memory', DeviceMemory, 'a DeviceMemory');
    checkSameDevice(this.device, memory, 'memory', 'Buffer');
    is.nonNegativeInteger(offset, 'offset');
    if (this.#bound) throw new Error('Buffer is already bound to memory: Vulkan binds a buffer once');
    const req = this.memoryRequirements;
    if ((req.memoryTypeBits & (1 << memory.memoryType.index)) === 0) {
      throw new RangeError(`memory has type ${memory.memoryType.index}, which this buffer cannot use (memoryTypeBits 0b${req.memoryTypeBits.toString(2)})`);
    }
    if (offset % req.alignment !== 0) throw new RangeError(`Expected a multiple of ${req.alignment} for offset but received ${offset}`);
    if (offset + req.size > memory.size) {
      throw new RangeError(`memory (${memory.size} bytes) is too small for this buffer (${req.size} bytes) at offset ${offset}`);
    }
    handle.bindMemory(VulkanObject.nativeOf(memory), offset);
    this.#bound = { memory, offset };
  }
}
