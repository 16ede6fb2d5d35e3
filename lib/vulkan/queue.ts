// Queue: submit batches of command buffers with semaphore waits and signals (binary
// or timeline), an optional fence, and wait for idle; submitAsync() is submit() and a
// promise of completion (a fence waited on off the JS thread).
import { Native } from '../native/binding';
import { CommandBuffer } from './command-buffer';
import type { Device } from './device';
import { Fence } from './fence';
import { PIPELINE_STAGE, PipelineStage } from '../util/flags';
import { checkConstruct, checkSameDevice, VulkanObject } from './resource';
import { Semaphore } from './semaphore';
import * as is from '../util/is';

export interface SemaphoreWait {
  semaphore: Semaphore;
  /** Timeline semaphores: the value to wait for (required); binary ones take none. */
  value?: number;
  /** The stages that wait (default 'all-commands'). */
  stage?: PipelineStage[] | PipelineStage | number;
}

export interface SemaphoreSignal {
  semaphore: Semaphore;
  /** Timeline semaphores: the value to set (required); binary ones take none. */
  value?: number;
}

/** One VkSubmitInfo. An empty batch still orders the fence. */
export interface SubmitBatch {
  commandBuffers?: CommandBuffer[];
  waitSemaphores?: SemaphoreWait[];
  signalSemaphores?: SemaphoreSignal[];
}

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
    this.device.checkNotIdling('queue.submit()');
    if (!Array.isArray(batches)) is.fail('type', 'an array of submit batches', 'batches', batches);
    const submitted: CommandBuffer[] = [];
    const native = batches.map((b, i) => {
      const name = `batches[${i}]`;
      const o = is.options(b, name, ['commandBuffers', 'waitSemaphores', 'signalSemaphores'] as const);
      const list = (v: unknown, key: string, what: string): unknown[] => {
        if (v === undefined) return [];
        if (!Array.isArray(v)) is.fail('type', `an array of ${what}`, `${name}.${key}`, v);
        return v;
      };
      let timeline = false;
      const semaphore = (v: unknown, at: string): Semaphore => {
        const s = is.instanceOf(v, at, Semaphore, 'a Semaphore');
        checkSameDevice(this.device, s, at, 'Queue');
        if (s.destroyed) throw new Error(`${at} is destroyed`);
        return s;
      };
      const value = (s: Semaphore, v: unknown, at: string): number => {
        if (s.type === 'binary') {
          if (v !== undefined) throw new TypeError(`${at}: a binary semaphore takes no value`);
          return 0;
        }
        timeline = true;
        if (v === undefined) throw new TypeError(`${at}.value is required for a timeline semaphore`);
        return is.nonNegativeInteger(v, `${at}.value`);
      };
      const commandBuffers = list(o.commandBuffers, 'commandBuffers', 'CommandBuffers').map((cb, j) => {
        const at = `${name}.commandBuffers[${j}]`;
        const c = is.instanceOf(cb, at, CommandBuffer, 'a CommandBuffer');
        checkSameDevice(this.device, c, at, 'Queue');
        submitted.push(c);
        return CommandBuffer.forSubmit(c, this.family, at);
      });
      const waits = list(o.waitSemaphores, 'waitSemaphores', '{ semaphore, value?, stage? }').map((w, j) => {
        const at = `${name}.waitSemaphores[${j}]`;
        const wo = is.options(w, at, ['semaphore', 'value', 'stage'] as const);
        const s = semaphore(wo.semaphore, `${at}.semaphore`);
        const stageValue = wo.stage === undefined ? PIPELINE_STAGE['all-commands']
          : is.flags(typeof wo.stage === 'string' ? [wo.stage] : wo.stage, `${at}.stage`, PIPELINE_STAGE);
        if (stageValue === 0) is.fail('range', 'at least one pipeline stage', `${at}.stage`, wo.stage);
        return { semaphore: Semaphore.handleOf(s), value: value(s, wo.value, at), stage: stageValue };
      });
      const signals = list(o.signalSemaphores, 'signalSemaphores', '{ semaphore, value? }').map((sg, j) => {
        const at = `${name}.signalSemaphores[${j}]`;
        const so = is.options(sg, at, ['semaphore', 'value'] as const);
        const s = semaphore(so.semaphore, `${at}.semaphore`);
        return { semaphore: Semaphore.handleOf(s), value: value(s, so.value, at) };
      });
      return { commandBuffers, waits, signals, timeline };
    });
    let nativeFence: Native.Fence | null = null;
    if (fence !== undefined) {
      is.instanceOf(fence, 'fence', Fence, 'a Fence');
      checkSameDevice(this.device, fence, 'fence', 'Queue');
      Fence.refuseWhileWaited(fence, 'submit with');
      nativeFence = Fence.nativeHandle(fence);
    }
    handle.submit(native, nativeFence);
    for (const cb of submitted) CommandBuffer.markSubmitted(cb);
    this.device.noteSubmit(this);
  }

  /**
   * submit(), then a promise that resolves once the batches have completed, waited for
   * off the JS thread (fence.waitAsync()), or rejects with a VulkanError. The submission
   * happens now, in order with other submits, and throws now as submit() does.
   * Completion is signalled to `fence` when given (it must be unsignaled; it stays
   * yours, and cannot be destroyed or reset until the promise settles); otherwise to a
   * fence of its own, made with the device's allocator and destroyed once it settles.
   */
  submitAsync(batches: SubmitBatch[] = [], fence?: Fence): Promise<void> {
    Queue.nativeOf(this);
    this.device.checkNotIdling('queue.submitAsync()');
    if (fence !== undefined) is.instanceOf(fence, 'fence', Fence, 'a Fence');
    const own = fence === undefined ? this.device.createFence({}, { allocator: this.device.allocator }) : null;
    const signal = fence ?? own!;
    try {
      this.submit(batches, signal);
    } catch (e) {
      own?.destroy();
      throw e;
    }
    const wait = Fence.waitAsyncAs(signal, Infinity, 'queue.submitAsync()');
    return (async () => {
      try {
        await wait;
      } finally {
        own?.destroy();
      }
    })();
  }

  waitIdle(): void {
    const handle = Queue.nativeOf(this);
    this.device.checkNotIdling('queue.waitIdle()');
    handle.waitIdle();
    this.device.noteIdle(this);
  }
}
