// Fence: wait with a timeout (a timeout is a result, not an exception), status, reset.
import { Native } from '../native/binding';
import type { Device } from './device';
import type { HostAllocator } from '../allocator/host-allocator';
import { checkConstruct, VulkanObject } from './resource';
import * as is from '../util/is';

export class Fence extends VulkanObject<Native.Fence> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;

  /** @internal */
  constructor(token: unknown, handle: Native.Fence, device: Device, allocator: HostAllocator | null) {
    checkConstruct(token, 'Fence');
    super(handle);
    this.device = device;
    this.allocator = allocator;
  }

  /** @internal */
  static nativeHandle(fence: Fence): Native.Fence {
    return VulkanObject.nativeOf(fence);
  }

  /** Waits up to `timeoutNs` nanoseconds (default: forever). 'success' or 'timeout'. */
  wait(timeoutNs = Infinity): 'success' | 'timeout' {
    const handle = Fence.nativeOf(this);
    if (typeof timeoutNs !== 'number') is.fail('type', 'a non-negative number of nanoseconds', 'timeoutNs', timeoutNs);
    if (!(timeoutNs >= 0)) is.fail('range', 'a non-negative number of nanoseconds', 'timeoutNs', timeoutNs);
    return handle.wait(timeoutNs) ? 'success' : 'timeout';
  }

  get signaled(): boolean {
    return Fence.nativeOf(this).signaled();
  }

  reset(): void {
    Fence.nativeOf(this).reset();
  }
}
