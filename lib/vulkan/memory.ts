// DeviceMemory: allocation, map/unmap (an ArrayBuffer that is detached on unmap,
// so JS can never touch unmapped memory), flush/invalidate for non-coherent types.
import { Native } from '../native/binding';
import type { Device } from './device';
import type { HostAllocator } from '../allocator/host-allocator';
import type { MemoryType } from './physical-device';
import { checkConstruct, VulkanObject } from './resource';
import * as is from '../util/is';

export class DeviceMemory extends VulkanObject<Native.DeviceMemory> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly size: number;
  readonly memoryType: MemoryType;
  #mapped: ArrayBuffer | null = null;

  /** @internal */
  constructor(token: unknown, handle: Native.DeviceMemory, device: Device, allocator: HostAllocator | null, size: number,
    memoryType: MemoryType) {
    checkConstruct(token, 'DeviceMemory');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.size = size;
    this.memoryType = memoryType;
  }

  /** The current mapping, or null. */
  get mapped(): ArrayBuffer | null {
    return this.#mapped && this.#mapped.byteLength > 0 ? this.#mapped : null;
  }

  /** Maps [offset, offset + size) (default: to the end) and returns it as an ArrayBuffer. */
  map(offset = 0, size?: number): ArrayBuffer {
    const handle = DeviceMemory.nativeOf(this);
    if (!this.memoryType.properties.includes('host-visible')) {
      throw new Error(`DeviceMemory of type ${this.memoryType.index} is not host-visible and cannot be mapped`);
    }
    is.integer(offset, 'offset', 0, this.size - 1);
    const length = size === undefined ? this.size - offset : is.integer(size, 'size', 1, this.size - offset);
    this.#mapped = handle.map(offset, length);
    return this.#mapped;
  }

  unmap(): void {
    DeviceMemory.nativeOf(this).unmap();
    this.#mapped = null;
  }

  /** Makes host writes visible to the device (needed for non-host-coherent types). */
  flush(offset = 0, size?: number): void {
    const handle = DeviceMemory.nativeOf(this);
    is.nonNegativeInteger(offset, 'offset');
    handle.flush(offset, size === undefined ? (undefined as unknown as number) : is.positiveInteger(size, 'size'));
  }

  /** Makes device writes visible to the host (needed for non-host-coherent types). */
  invalidate(offset = 0, size?: number): void {
    const handle = DeviceMemory.nativeOf(this);
    is.nonNegativeInteger(offset, 'offset');
    handle.invalidate(offset, size === undefined ? (undefined as unknown as number) : is.positiveInteger(size, 'size'));
  }
}
