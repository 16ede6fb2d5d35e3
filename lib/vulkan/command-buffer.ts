// CommandBuffer: recording checked before anything reaches the driver: begin() before
// recording, end() before submit, a compute pipeline bound before dispatch(), buffers
// and images bound to live memory, and, at submit, that nothing recorded has been
// destroyed since (a GPU running a command on freed memory can take the process down).
// What is left (e.g. descriptor sets a pipeline needs but that were never bound) is
// the validation layer's to report: createInstance({ validation: true }).
import { Native } from '../native/binding';
import type { HostAllocator } from '../allocator/host-allocator';
import {
  ACCESS, Access, BUFFER_USAGE, COMMAND_BUFFER_USAGE, CommandBufferUsage, IMAGE_LAYOUT,
  IMAGE_USAGE, ImageLayout, PIPELINE_STAGE, PipelineStage, SHADER_STAGE, ShaderStage,
} from '../util/flags';
import * as is from '../util/is';
import { Buffer } from './buffer';
import type { CommandPool } from './command-pool';
import type { Device } from './device';
import { checkUsable, DescriptorSet } from './descriptor';
import { checkImageUsable, Image } from './image';
import { ComputePipeline, PipelineLayout } from './pipeline';
import { checkConstruct, checkSameDevice, VulkanObject } from './resource';

/** Vulkan's command buffer lifecycle, as far as the host can tell. */
export type CommandBufferState = 'initial' | 'recording' | 'executable' | 'invalid';

export interface BufferBarrier {
  buffer: Buffer;
  srcAccess: Access[] | Access | number;
  dstAccess: Access[] | Access | number;
  /** Default 0 and the whole buffer. */
  offset?: number;
  size?: number;
}

export interface ImageBarrier {
  image: Image;
  srcAccess?: Access[] | Access | number;
  dstAccess?: Access[] | Access | number;
  oldLayout: ImageLayout;
  newLayout: ImageLayout;
}

export interface PipelineBarrierOptions {
  srcStage: PipelineStage[] | PipelineStage | number;
  dstStage: PipelineStage[] | PipelineStage | number;
  /** Global memory barriers. */
  memory?: { srcAccess: Access[] | Access | number; dstAccess: Access[] | Access | number }[];
  buffers?: BufferBarrier[];
  images?: ImageBarrier[];
}

export interface ImageCopyOptions {
  /** The layout the image is in during the copy (default 'general'). */
  layout?: ImageLayout;
  /** Byte offset in the buffer (a multiple of the texel size; default 0). */
  bufferOffset?: number;
  /** The image region (default: the whole image); the buffer is tightly packed. */
  x?: number;
  y?: number;
  width?: number;
  height?: number;
}

/** A flag set given as one name, names, or a number. */
function mask(value: unknown, name: string, table: Readonly<Record<string, number>>): number {
  return is.flags(typeof value === 'string' ? [value] : value, name, table);
}

export class CommandBuffer extends VulkanObject<Native.CommandBuffer> {
  readonly pool: CommandPool;
  #state: CommandBufferState = 'initial';
  #oneTimeSubmit = false;
  #pipeline: ComputePipeline | null = null;
  /** Everything recorded since begin(): checked at submit. */
  readonly #used = new Set<Buffer | Image | ComputePipeline | PipelineLayout | DescriptorSet>();

  /** @internal */
  constructor(token: unknown, handle: Native.CommandBuffer, pool: CommandPool) {
    checkConstruct(token, 'CommandBuffer');
    super(handle);
    this.pool = pool;
  }

  get device(): Device {
    return this.pool.device;
  }

  /** The pool's allocator: command buffers live in their pool's memory. */
  get allocator(): HostAllocator | null {
    return this.pool.allocator;
  }

  get state(): CommandBufferState {
    return this.destroyed ? 'invalid' : this.#state;
  }

  /** @internal */
  static markReset(cb: CommandBuffer): void {
    cb.#state = 'initial';
    cb.#pipeline = null;
    cb.#used.clear();
  }

  /** @internal Checks `cb` may be submitted to a queue of `family`; returns its native handle. */
  static forSubmit(cb: CommandBuffer, family: number, name: string): Native.CommandBuffer {
    const handle = CommandBuffer.nativeOf(cb);
    if (cb.destroyed) throw new Error(`${name} is destroyed`);
    if (cb.#state !== 'executable') {
      throw new Error(`${name} cannot be submitted in the '${cb.#state}' state` +
        (cb.#state === 'recording' ? ': call end() first' : cb.#state === 'initial' ? ': record it first' : ': it was recorded for one submit; record it again'));
    }
    if (cb.pool.queueFamily !== family) {
      throw new Error(`${name} comes from a pool of queue family ${cb.pool.queueFamily} and cannot run on a queue of family ${family}`);
    }
    for (const object of cb.#used) {
      const what = object.constructor.name;
      if (object.destroyed) throw new Error(`${name} uses a ${what} that has been destroyed since it was recorded: record it again`);
      if (object instanceof Buffer) checkUsable(object, `A Buffer recorded in ${name}`);
      else if (object instanceof Image) checkImageUsable(object, `An Image recorded in ${name}`);
      else if (object instanceof DescriptorSet) {
        for (const r of DescriptorSet.resourcesOf(object)) {
          if (r instanceof Buffer) checkUsable(r, `A Buffer a DescriptorSet in ${name} points at`);
          else if (r.destroyed) throw new Error(`An ImageView a DescriptorSet in ${name} points at is destroyed`);
          else checkImageUsable(r.image, `An Image a DescriptorSet in ${name} points at`);
        }
      }
    }
    return handle;
  }

  /** @internal After a successful submit. */
  static markSubmitted(cb: CommandBuffer): void {
    if (cb.#oneTimeSubmit) cb.#state = 'invalid';
  }

  #recording(): Native.CommandBuffer {
    const handle = CommandBuffer.nativeOf(this);
    if (this.destroyed) handle.end();  // throws "CommandBuffer is destroyed"
    if (this.#state !== 'recording') throw new Error(`CommandBuffer is not recording (state '${this.#state}'): call begin() first`);
    return handle;
  }

  #buffer(value: unknown, name: string, usage?: 'transfer-src' | 'transfer-dst'): Buffer {
    const buffer = is.instanceOf(value, name, Buffer, 'a Buffer');
    checkSameDevice(this.device, buffer, name, 'CommandBuffer');
    checkUsable(buffer, name);
    if (usage && (buffer.usage & BUFFER_USAGE[usage]) === 0) throw new RangeError(`${name} was not created with usage '${usage}'`);
    this.#used.add(buffer);
    return buffer;
  }

  #image(value: unknown, name: string): Image {
    const image = is.instanceOf(value, name, Image, 'an Image');
    checkSameDevice(this.device, image, name, 'CommandBuffer');
    checkImageUsable(image, name);
    this.#used.add(image);
    return image;
  }

  #layout(value: unknown, name: string): PipelineLayout {
    const layout = is.instanceOf(value, name, PipelineLayout, 'a PipelineLayout');
    checkSameDevice(this.device, layout, name, 'CommandBuffer');
    if (layout.destroyed) throw new Error(`${name} is destroyed`);
    this.#used.add(layout);
    return layout;
  }

  /** vkBeginCommandBuffer. Beginning again a recorded buffer resets it, which needs a pool with flags ['reset-command-buffer']. */
  begin(options?: { usage?: CommandBufferUsage[] | number }): void {
    const handle = CommandBuffer.nativeOf(this);
    const o = is.options(options, 'options', ['usage'] as const);
    const usage = o.usage === undefined ? 0 : is.flags(o.usage, 'usage', COMMAND_BUFFER_USAGE);
    if (this.#state === 'recording') throw new Error('CommandBuffer is already recording: call end() first');
    if (this.#state !== 'initial' && !this.pool.flags.includes('reset-command-buffer')) {
      throw new Error(`CommandBuffer has been recorded (state '${this.#state}'): beginning it again needs a pool created with ` +
        "flags ['reset-command-buffer'], or pool.reset()");
    }
    handle.begin(usage);
    CommandBuffer.markReset(this);
    this.#state = 'recording';
    this.#oneTimeSubmit = (usage & COMMAND_BUFFER_USAGE['one-time-submit']) !== 0;
  }

  /** vkEndCommandBuffer: the buffer becomes executable. */
  end(): void {
    this.#recording().end();
    this.#state = 'executable';
  }

  /** vkResetCommandBuffer (the pool needs flags ['reset-command-buffer']). */
  reset(options?: { releaseResources?: boolean }): void {
    const handle = CommandBuffer.nativeOf(this);
    const o = is.options(options, 'options', ['releaseResources'] as const);
    const release = o.releaseResources === undefined ? false : is.boolean(o.releaseResources, 'releaseResources');
    if (!this.pool.flags.includes('reset-command-buffer')) {
      throw new Error("Resetting one CommandBuffer needs a pool created with flags ['reset-command-buffer']; or reset the whole pool");
    }
    handle.reset(release);
    CommandBuffer.markReset(this);
  }

  /** vkCmdFillBuffer: `value` (a uint32) repeated over [offset, offset + size) (default: the whole buffer). */
  fillBuffer(buffer: Buffer, value = 0, range?: { offset?: number; size?: number }): void {
    const handle = this.#recording();
    const b = this.#buffer(buffer, 'buffer', 'transfer-dst');
    is.uint32(value, 'value');
    const r = is.options(range, 'range', ['offset', 'size'] as const);
    const offset = r.offset === undefined ? 0 : is.integer(r.offset, 'offset', 0, b.size - 4);
    if (offset % 4 !== 0) is.fail('range', 'a multiple of 4', 'offset', offset);
    let size = -1;
    if (r.size !== undefined) {
      size = is.integer(r.size, 'size', 4, b.size - offset);
      if (size % 4 !== 0) is.fail('range', 'a multiple of 4', 'size', size);
    }
    handle.fillBuffer(VulkanObject.nativeOf(b), offset, size, value);
  }

  /** vkCmdUpdateBuffer: copies `data` (up to 65536 bytes, a multiple of 4) into the buffer at `offset` when the command runs. */
  updateBuffer(buffer: Buffer, data: ArrayBufferView, offset = 0): void {
    const handle = this.#recording();
    const b = this.#buffer(buffer, 'buffer', 'transfer-dst');
    if (!ArrayBuffer.isView(data)) is.fail('type', 'a TypedArray, Buffer or DataView', 'data', data);
    if (data.byteLength === 0 || data.byteLength > 65536 || data.byteLength % 4 !== 0) {
      throw new RangeError(`Expected from 4 to 65536 bytes, a multiple of 4, for data but received ${data.byteLength} bytes`);
    }
    is.integer(offset, 'offset', 0, b.size - data.byteLength);
    if (offset % 4 !== 0) is.fail('range', 'a multiple of 4', 'offset', offset);
    handle.updateBuffer(VulkanObject.nativeOf(b), offset, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** vkCmdCopyBuffer; without regions, copies min(src.size, dst.size) bytes from the start. */
  copyBuffer(src: Buffer, dst: Buffer, regions?: { srcOffset?: number; dstOffset?: number; size: number }[]): void {
    const handle = this.#recording();
    const s = this.#buffer(src, 'src', 'transfer-src');
    const d = this.#buffer(dst, 'dst', 'transfer-dst');
    const list = regions === undefined ? [{ size: Math.min(s.size, d.size) }] : regions;
    if (!Array.isArray(list) || list.length === 0) {
      is.fail(Array.isArray(list) ? 'range' : 'type', 'a non-empty array of { srcOffset?, dstOffset?, size }', 'regions', list);
    }
    const out = list.map((r: unknown, i: number) => {
      const ro = is.options(r, `regions[${i}]`, ['srcOffset', 'dstOffset', 'size'] as const);
      const srcOffset = ro.srcOffset === undefined ? 0 : is.integer(ro.srcOffset, `regions[${i}].srcOffset`, 0, s.size - 1);
      const dstOffset = ro.dstOffset === undefined ? 0 : is.integer(ro.dstOffset, `regions[${i}].dstOffset`, 0, d.size - 1);
      const size = is.integer(ro.size, `regions[${i}].size`, 1, Math.min(s.size - srcOffset, d.size - dstOffset));
      return { srcOffset, dstOffset, size };
    });
    handle.copyBuffer(VulkanObject.nativeOf(s), VulkanObject.nativeOf(d), out);
  }

  #imageRegion(image: Image, buffer: Buffer, options: unknown, usage: 'transfer-src' | 'transfer-dst', layouts: ImageLayout[]) {
    const o = is.options(options, 'options', ['layout', 'bufferOffset', 'x', 'y', 'width', 'height'] as const);
    if ((image.usage & IMAGE_USAGE[usage]) === 0) throw new RangeError(`image was not created with usage '${usage}'`);
    const layout = o.layout === undefined ? 'general' : is.oneOf(o.layout, 'layout', layouts);
    const x = o.x === undefined ? 0 : is.integer(o.x, 'x', 0, image.width - 1);
    const y = o.y === undefined ? 0 : is.integer(o.y, 'y', 0, image.height - 1);
    const width = o.width === undefined ? image.width - x : is.integer(o.width, 'width', 1, image.width - x);
    const height = o.height === undefined ? image.height - y : is.integer(o.height, 'height', 1, image.height - y);
    const bufferOffset = o.bufferOffset === undefined ? 0 : is.nonNegativeInteger(o.bufferOffset, 'bufferOffset');
    const texel = image.texelSize;
    if (bufferOffset % Math.max(4, texel) !== 0) is.fail('range', `a multiple of ${Math.max(4, texel)}`, 'bufferOffset', bufferOffset);
    const bytes = width * height * texel;
    if (bufferOffset + bytes > buffer.size) {
      throw new RangeError(`buffer (${buffer.size} bytes) is too small for ${width}x${height} texels of ${texel} bytes at offset ${bufferOffset}`);
    }
    return { layout: IMAGE_LAYOUT[layout], regions: [{ bufferOffset, bufferRowLength: 0, bufferImageHeight: 0, x, y, width, height }] };
  }

  /** vkCmdCopyBufferToImage: tightly packed texels into the image (by default all of it, in layout 'general'). */
  copyBufferToImage(buffer: Buffer, image: Image, options?: ImageCopyOptions): void {
    const handle = this.#recording();
    const b = this.#buffer(buffer, 'buffer', 'transfer-src');
    const i = this.#image(image, 'image');
    const { layout, regions } = this.#imageRegion(i, b, options, 'transfer-dst', ['general', 'transfer-dst']);
    handle.copyBufferToImage(VulkanObject.nativeOf(b), VulkanObject.nativeOf(i), layout, regions);
  }

  /** vkCmdCopyImageToBuffer: the image's texels (by default all, in layout 'general'), tightly packed into the buffer. */
  copyImageToBuffer(image: Image, buffer: Buffer, options?: ImageCopyOptions): void {
    const handle = this.#recording();
    const i = this.#image(image, 'image');
    const b = this.#buffer(buffer, 'buffer', 'transfer-dst');
    const { layout, regions } = this.#imageRegion(i, b, options, 'transfer-src', ['general', 'transfer-src']);
    handle.copyImageToBuffer(VulkanObject.nativeOf(i), layout, VulkanObject.nativeOf(b), regions);
  }

  /**
   * vkCmdPipelineBarrier: work of `srcStage` before it finishes before work of `dstStage`,
   * with the memory, buffer-range and image (layout transition) barriers given.
   */
  pipelineBarrier(options: PipelineBarrierOptions): void {
    const handle = this.#recording();
    const o = is.options(options ?? null, 'options', ['srcStage', 'dstStage', 'memory', 'buffers', 'images'] as const);
    const src = mask(o.srcStage, 'srcStage', PIPELINE_STAGE);
    const dst = mask(o.dstStage, 'dstStage', PIPELINE_STAGE);
    if (src === 0) is.fail('range', 'at least one pipeline stage', 'srcStage', o.srcStage);
    if (dst === 0) is.fail('range', 'at least one pipeline stage', 'dstStage', o.dstStage);
    const list = (v: unknown, name: string): unknown[] => {
      if (v === undefined) return [];
      if (!Array.isArray(v)) is.fail('type', 'an array', name, v);
      return v;
    };
    const memory = list(o.memory, 'memory').map((m, i) => {
      const mo = is.options(m, `memory[${i}]`, ['srcAccess', 'dstAccess'] as const);
      return { srcAccess: mask(mo.srcAccess, `memory[${i}].srcAccess`, ACCESS), dstAccess: mask(mo.dstAccess, `memory[${i}].dstAccess`, ACCESS) };
    });
    const buffers = list(o.buffers, 'buffers').map((b, i) => {
      const name = `buffers[${i}]`;
      const bo = is.options(b, name, ['buffer', 'srcAccess', 'dstAccess', 'offset', 'size'] as const);
      const buffer = this.#buffer(bo.buffer, `${name}.buffer`);
      const offset = bo.offset === undefined ? 0 : is.integer(bo.offset, `${name}.offset`, 0, buffer.size - 1);
      const size = bo.size === undefined ? -1 : is.integer(bo.size, `${name}.size`, 1, buffer.size - offset);
      return {
        buffer: VulkanObject.nativeOf(buffer), offset, size,
        srcAccess: mask(bo.srcAccess, `${name}.srcAccess`, ACCESS), dstAccess: mask(bo.dstAccess, `${name}.dstAccess`, ACCESS),
      };
    });
    const layouts = Object.keys(IMAGE_LAYOUT) as ImageLayout[];
    const images = list(o.images, 'images').map((im, i) => {
      const name = `images[${i}]`;
      const io = is.options(im, name, ['image', 'srcAccess', 'dstAccess', 'oldLayout', 'newLayout'] as const);
      const image = this.#image(io.image, `${name}.image`);
      const oldLayout = is.oneOf(io.oldLayout, `${name}.oldLayout`, layouts);
      const newLayout = is.oneOf(io.newLayout, `${name}.newLayout`, layouts.filter((l) => l !== 'undefined'));
      return {
        image: VulkanObject.nativeOf(image), oldLayout: IMAGE_LAYOUT[oldLayout], newLayout: IMAGE_LAYOUT[newLayout],
        srcAccess: io.srcAccess === undefined ? 0 : mask(io.srcAccess, `${name}.srcAccess`, ACCESS),
        dstAccess: io.dstAccess === undefined ? 0 : mask(io.dstAccess, `${name}.dstAccess`, ACCESS),
      };
    });
    handle.pipelineBarrier(src, dst, memory, buffers, images);
  }

  /** vkCmdBindPipeline (compute). */
  bindPipeline(pipeline: ComputePipeline): void {
    const handle = this.#recording();
    is.instanceOf(pipeline, 'pipeline', ComputePipeline, 'a ComputePipeline');
    checkSameDevice(this.device, pipeline, 'pipeline', 'CommandBuffer');
    handle.bindPipeline(ComputePipeline.handleOf(pipeline));
    this.#pipeline = pipeline;
    this.#used.add(pipeline);
  }

  /** vkCmdBindDescriptorSets (compute): `sets` as sets firstSet, firstSet + 1, … of `layout`. */
  bindDescriptorSets(layout: PipelineLayout, sets: DescriptorSet[], firstSet = 0, dynamicOffsets: number[] = []): void {
    const handle = this.#recording();
    const l = this.#layout(layout, 'layout');
    if (!Array.isArray(sets) || sets.length === 0) {
      is.fail(Array.isArray(sets) ? 'range' : 'type', 'a non-empty array of DescriptorSets', 'sets', sets);
    }
    is.integer(firstSet, 'firstSet', 0, Math.max(0, l.setLayouts.length - sets.length));
    if (firstSet + sets.length > l.setLayouts.length) {
      throw new RangeError(`layout has ${l.setLayouts.length} set layouts: sets ${firstSet}..${firstSet + sets.length - 1} do not fit`);
    }
    let dynamicCount = 0;
    sets.forEach((s, i) => {
      is.instanceOf(s, `sets[${i}]`, DescriptorSet, 'a DescriptorSet');
      checkSameDevice(this.device, s, `sets[${i}]`, 'CommandBuffer');
      if (s.destroyed) throw new Error(`sets[${i}] is destroyed`);
      if (!s.layout.compatibleWith(l.setLayouts[firstSet + i])) {
        throw new Error(`sets[${i}] was allocated with a layout that does not match set ${firstSet + i} of the pipeline layout`);
      }
      dynamicCount += s.layout.bindings.filter((b) => b.type.endsWith('-dynamic')).reduce((n, b) => n + b.count, 0);
      this.#used.add(s);
    });
    if (!Array.isArray(dynamicOffsets)) is.fail('type', 'an array of byte offsets', 'dynamicOffsets', dynamicOffsets);
    if (dynamicOffsets.length !== dynamicCount) {
      throw new RangeError(`Expected ${dynamicCount} dynamic offsets (one per dynamic descriptor of the sets) for dynamicOffsets but received ${dynamicOffsets.length}`);
    }
    dynamicOffsets.forEach((d, i) => is.uint32(d, `dynamicOffsets[${i}]`));
    handle.bindDescriptorSets(VulkanObject.nativeOf(l), firstSet, sets.map((s) => DescriptorSet.handleOf(s)), dynamicOffsets);
  }

  /**
   * vkCmdPushConstants: `data` at byte `offset` of the push-constant block. `stages`
   * defaults to those of the layout's ranges the bytes fall in.
   */
  pushConstants(layout: PipelineLayout, data: ArrayBufferView, offset = 0, stages?: ShaderStage[] | number): void {
    const handle = this.#recording();
    const l = this.#layout(layout, 'layout');
    if (!ArrayBuffer.isView(data)) is.fail('type', 'a TypedArray, Buffer or DataView', 'data', data);
    const size = data.byteLength;
    if (size === 0 || size % 4 !== 0) throw new RangeError(`Expected a non-empty multiple of 4 bytes for data but received ${size} bytes`);
    is.nonNegativeInteger(offset, 'offset');
    if (offset % 4 !== 0) is.fail('range', 'a multiple of 4', 'offset', offset);
    const end = offset + size;
    const overlapping = l.pushConstantRanges.filter((r) => r.offset < end && offset < r.offset + r.size);
    const flags = stages === undefined ? overlapping.reduce((m, r) => m | r.stages, 0) : is.flags(stages, 'stages', SHADER_STAGE);
    for (let byte = offset; byte < end; byte += 4) {
      const covering = l.pushConstantRanges.filter((r) => r.offset <= byte && byte < r.offset + r.size);
      if ((covering.reduce((m, r) => m | r.stages, 0) & flags) !== flags || flags === 0) {
        const ranges = l.pushConstantRanges.map((r) => `[${r.offset}, ${r.offset + r.size})`).join(', ') || 'none';
        throw new RangeError(`Push constants [${offset}, ${end}) are not all in the layout's push-constant ranges for these stages (ranges: ${ranges})`);
      }
    }
    if (overlapping.some((r) => (r.stages & flags) !== r.stages)) {
      throw new RangeError('stages must include every stage of the push-constant ranges the bytes fall in');
    }
    handle.pushConstants(VulkanObject.nativeOf(l), flags, offset, new Uint8Array(data.buffer, data.byteOffset, size));
  }

  /** vkCmdDispatch of x * y * z workgroups (each at most the device's maxComputeWorkGroupCount). */
  dispatch(x: number, y = 1, z = 1): void {
    const handle = this.#recording();
    const max = this.device.physicalDevice.limits.maxComputeWorkGroupCount;
    is.integer(x, 'x', 0, max[0]);
    is.integer(y, 'y', 0, max[1]);
    is.integer(z, 'z', 0, max[2]);
    if (!this.#pipeline) throw new Error('No compute pipeline is bound: call bindPipeline() before dispatch()');
    if (this.#pipeline.destroyed) throw new Error('The bound compute pipeline has been destroyed');
    handle.dispatch(x, y, z);
  }
}
