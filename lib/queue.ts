// Queue: submit batches (with an optional fence) and wait for idle.
import { Native } from './binding';
import { checkSameDevice, Device } from './device';
import { Fence } from './fence';
import { checkConstruct, VulkanObject } from './resource';
import * as is from './validate';

/** One VkSubmitInfo. Command buffers arrive with the compute work; an empty batch still signals the fence. */
export type SubmitBatch = Record<string, never>;

export class Queue extends VulkanObject<Native.Queue> {
  readonly device: Device;
  readonly family: number;
  readonly index: number;

  /** @internal */
  constructor(token: unknown, handle: Native.Queue, device: Device, family: number, index: number) {
    checkConstruct(token, 'Queue');
    super(handle);
    this.device = device;
    this.family = family;
    this.index = index;
  }

  /** Queues are owned by their device: destroy the device instead. */
  override destroy(): void {
    throw new Error('A Queue is not destroyed on its own: it goes with its Device');
  }

  /** vkQueueSubmit of `batches` (default: none), signalling `fence` when they complete. */
  submit(batches: SubmitBatch[] = [], fence?: Fence): void {
    const handle = Queue.nativeOf(this);
    if (!Array.isArray(batches)) is.fail('type', 'an array of submit batches', 'batches', batches);
    batches.forEach((b, i) => is.options(b, `batches[${i}]`, [] as const));
    let nativeFence: Native.Fence | null = null;
    if (fence !== undefined) {
      is.instanceOf(fence, 'fence', Fence, 'a Fence');
      checkSameDevice(this.device, fence, 'fence', 'Queue');
      nativeFence = Fence.nativeHandle(fence);
    }
    handle.submit(batches, nativeFence);
  }

  waitIdle(): void {
    Queue.nativeOf(this).waitIdle();
  }
}
