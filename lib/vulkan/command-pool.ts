// CommandPool: where command buffers come from (lib/vulkan/command-buffer.ts). A
// command buffer is a child of its pool and is served by the pool's allocator
// (vkAllocateCommandBuffers takes none).
import { Native } from '../native/binding';
import type { HostAllocator } from '../allocator/host-allocator';
import { COMMAND_POOL_FLAGS, CommandPoolFlag, flagNames } from '../util/flags';
import * as is from '../util/is';
import { CommandBuffer } from './command-buffer';
import type { Device } from './device';
import { checkConstruct, CONSTRUCT, VulkanObject } from './resource';

export interface CommandPoolOptions {
  /** The queue family whose queues will run the command buffers. */
  queueFamily: number;
  /** 'reset-command-buffer' lets each buffer be reset (or begun again) on its own; 'transient' hints short-lived buffers. */
  flags?: CommandPoolFlag[] | number;
}

export class CommandPool extends VulkanObject<Native.CommandPool> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly queueFamily: number;
  readonly flags: readonly CommandPoolFlag[];
  readonly #buffers = new Set<CommandBuffer>();

  /** @internal */
  constructor(token: unknown, handle: Native.CommandPool, device: Device, allocator: HostAllocator | null, queueFamily: number,
    flags: number) {
    checkConstruct(token, 'CommandPool');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.queueFamily = queueFamily;
    this.flags = Object.freeze(flagNames(flags, COMMAND_POOL_FLAGS));
  }

  /** `count` primary command buffers (vkAllocateCommandBuffers). */
  allocateCommandBuffers(count = 1): CommandBuffer[] {
    const handle = CommandPool.nativeOf(this);
    is.integer(count, 'count', 1, 0xffff);
    const buffers = handle.allocateCommandBuffers(count).map((cb) => new CommandBuffer(CONSTRUCT, cb, this));
    for (const cb of buffers) this.#buffers.add(cb);
    return buffers;
  }

  allocateCommandBuffer(): CommandBuffer {
    return this.allocateCommandBuffers(1)[0];
  }

  /** vkResetCommandPool: every command buffer of the pool goes back to the initial state. */
  reset(options?: { releaseResources?: boolean }): void {
    const handle = CommandPool.nativeOf(this);
    const o = is.options(options, 'options', ['releaseResources'] as const);
    const release = o.releaseResources === undefined ? false : is.boolean(o.releaseResources, 'releaseResources');
    handle.reset(release);
    for (const cb of this.#buffers) {
      if (cb.destroyed) this.#buffers.delete(cb);
      else CommandBuffer.markReset(cb);
    }
  }
}

/** createCommandPool's options, checked. */
export function commandPoolInfo(options: unknown, device: Device): { queueFamily: number; flags: number } {
  const o = is.options(options, 'options', ['queueFamily', 'flags'] as const);
  const families = device.queueFamilies;
  const queueFamily = is.nonNegativeInteger(o.queueFamily, 'queueFamily');
  if (!families.includes(queueFamily)) {
    throw new RangeError(`Expected a queue family this device was created with (${families.join(', ')}) for queueFamily but received ${queueFamily}`);
  }
  const flags = o.flags === undefined ? 0 : is.flags(o.flags, 'flags', COMMAND_POOL_FLAGS);
  return { queueFamily, flags };
}
