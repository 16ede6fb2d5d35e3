// Semaphore: binary (GPU-to-GPU ordering between submits) or timeline (a 64-bit
// counter the host can read, wait for and signal; Vulkan 1.2, enabled at
// createDevice with features: { timelineSemaphore: true }).
import { Native } from '../native/binding';
import type { Device } from './device';
import type { HostAllocator } from '../allocator/host-allocator';
import { checkConstruct, VulkanObject } from './resource';
import * as is from '../util/is';

export type SemaphoreType = 'binary' | 'timeline';

export interface SemaphoreOptions {
  /** Default 'binary'. */
  type?: SemaphoreType;
  /** Timeline only: the counter's first value (default 0). */
  initialValue?: number;
}

export class Semaphore extends VulkanObject<Native.Semaphore> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly type: SemaphoreType;

  /** @internal */
  constructor(token: unknown, handle: Native.Semaphore, device: Device, allocator: HostAllocator | null, type: SemaphoreType) {
    checkConstruct(token, 'Semaphore');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.type = type;
  }

  /** @internal */
  static handleOf(semaphore: Semaphore): Native.Semaphore {
    return Semaphore.nativeOf(semaphore);
  }

  #requireTimeline(what: string): Native.Semaphore {
    const handle = Semaphore.nativeOf(this);
    if (this.type !== 'timeline') throw new Error(`${what} needs a timeline semaphore; this one is binary`);
    return handle;
  }

  /** Timeline: the counter now (vkGetSemaphoreCounterValue). */
  get value(): number {
    return this.#requireTimeline('value').value();
  }

  /** Timeline: waits until the counter reaches `value`, up to `timeoutNs` (default: forever). 'success' or 'timeout'. */
  wait(value: number, timeoutNs = Infinity): 'success' | 'timeout' {
    const handle = this.#requireTimeline('wait()');
    is.nonNegativeInteger(value, 'value');
    if (typeof timeoutNs !== 'number') is.fail('type', 'a non-negative number of nanoseconds', 'timeoutNs', timeoutNs);
    if (!(timeoutNs >= 0)) is.fail('range', 'a non-negative number of nanoseconds', 'timeoutNs', timeoutNs);
    return handle.wait(value, timeoutNs) ? 'success' : 'timeout';
  }

  /** Timeline: sets the counter to `value` from the host (it must be greater than the current value). */
  signal(value: number): void {
    const handle = this.#requireTimeline('signal()');
    is.nonNegativeInteger(value, 'value');
    handle.signal(value);
  }
}

/** createSemaphore's options, checked, as the native call takes them. */
export function semaphoreInfo(options: unknown, device: Device): { timeline: boolean; initialValue: number; type: SemaphoreType } {
  const o = is.options(options, 'options', ['type', 'initialValue'] as const);
  const type = o.type === undefined ? 'binary' : is.oneOf(o.type, 'type', ['binary', 'timeline'] as const);
  if (type === 'binary' && o.initialValue !== undefined) {
    throw new TypeError('initialValue is for timeline semaphores: pass type: \'timeline\'');
  }
  const initialValue = o.initialValue === undefined ? 0 : is.nonNegativeInteger(o.initialValue, 'initialValue');
  if (type === 'timeline' && !device.features.timelineSemaphore) {
    throw new Error('Timeline semaphores are not enabled on this Device: create it with features: { timelineSemaphore: true }' +
      (device.physicalDevice.features.timelineSemaphore ? '' : ' (this physical device does not support them)'));
  }
  return { timeline: type === 'timeline', initialValue, type };
}
