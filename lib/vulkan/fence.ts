// Fence: wait with a timeout (a timeout is a result, not an exception), on the JS
// thread (wait) or off it (waitAsync: a promise that settles on the JS thread), status,
// reset. While a waitAsync() is pending, destroy(), reset() and submitting the fence
// again refuse: the wait's thread is inside vkWaitForFences on it, and Vulkan wants
// the fence of those commands to themselves.
import { Native } from '../native/binding';
import type { Device } from './device';
import type { HostAllocator } from '../allocator/host-allocator';
import { checkConstruct, VulkanObject } from './resource';
import * as is from '../util/is';

export class Fence extends VulkanObject<Native.Fence> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  /** waitAsync() calls not yet settled. */
  #waiting = 0;

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
    checkTimeout(timeoutNs);
    return handle.wait(timeoutNs) ? 'success' : 'timeout';
  }

  /**
   * wait() without blocking the event loop: vkWaitForFences runs on a thread of its
   * own and the promise settles on the JS thread, with 'success' or 'timeout', or
   * rejects with a VulkanError (e.g. VK_ERROR_DEVICE_LOST). Input errors and a
   * destroyed fence throw at the call, as with wait(). Until it settles, destroy() and
   * reset() of this fence (and destroy() of its device) throw.
   */
  waitAsync(timeoutNs = Infinity): Promise<'success' | 'timeout'> {
    return Fence.waitAsyncAs(this, timeoutNs, 'fence.waitAsync()');
  }

  /** @internal waitAsync(), named `what` in the device's pending waits (queue.submitAsync() uses it). */
  static waitAsyncAs(fence: Fence, timeoutNs: number, what: string): Promise<'success' | 'timeout'> {
    const handle = Fence.nativeOf(fence);
    checkTimeout(timeoutNs);
    const native = handle.waitAsync(timeoutNs);
    fence.#waiting++;
    const settled = (async () => {
      try {
        return (await native) ? 'success' as const : 'timeout' as const;
      } finally {
        fence.#waiting--;
      }
    })();
    return fence.device.trackWait(what, settled);
  }

  get signaled(): boolean {
    return Fence.nativeOf(this).signaled();
  }

  reset(): void {
    const handle = Fence.nativeOf(this);
    this.#refuseWhileWaited('reset');
    handle.reset();
  }

  override destroy(...args: unknown[]): void {
    Fence.nativeOf(this);
    if (args.length === 0) this.#refuseWhileWaited('destroy');
    super.destroy(...args);
  }

  #refuseWhileWaited(action: string): void {
    if (this.#waiting > 0) throw new Error(`Cannot ${action} this Fence while a waitAsync() on it is pending: await it first`);
  }

  /** @internal Throws while a waitAsync() on `fence` is pending (Queue.submit). */
  static refuseWhileWaited(fence: Fence, action: string): void {
    fence.#refuseWhileWaited(action);
  }
}

function checkTimeout(timeoutNs: unknown): void {
  if (typeof timeoutNs !== 'number') is.fail('type', 'a non-negative number of nanoseconds', 'timeoutNs', timeoutNs);
  if (!(timeoutNs >= 0)) is.fail('range', 'a non-negative number of nanoseconds', 'timeoutNs', timeoutNs);
}
