// Descriptors: DescriptorSetLayout, DescriptorPool and the DescriptorSets allocated
// from a pool. A set is a child of its pool and is served by the pool's allocator
// (vkAllocateDescriptorSets takes none); it is freed on its own only when the pool
// was created with flags ['free-descriptor-set'], otherwise with the pool's reset()
// or destroy().
import { Native } from '../native/binding';
import { Buffer } from './buffer';
import type { Device } from './device';
import { DESCRIPTOR_POOL_FLAGS, DESCRIPTOR_TYPE, DescriptorPoolFlag, DescriptorType, IMAGE_LAYOUT, ImageLayout, SHADER_STAGE, ShaderStage } from '../util/flags';
import type { HostAllocator } from '../allocator/host-allocator';
import { ImageView } from './image';
import { checkConstruct, checkSameDevice, CONSTRUCT, VulkanObject } from './resource';
import * as is from '../util/is';

export interface DescriptorBinding {
  binding: number;
  type: DescriptorType;
  /** Array size (default 1). */
  count?: number;
  /** Default ['compute']. */
  stages?: ShaderStage[] | number;
}

export interface DescriptorSetLayoutOptions {
  bindings: DescriptorBinding[];
}

export type ResolvedBinding = Required<Omit<DescriptorBinding, 'stages'>> & { stages: number };

const DESCRIPTOR_TYPES = Object.keys(DESCRIPTOR_TYPE) as DescriptorType[];
const isBufferType = (t: DescriptorType) => t !== 'storage-image';

export class DescriptorSetLayout extends VulkanObject<Native.DescriptorSetLayout> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly bindings: readonly Readonly<ResolvedBinding>[];

  /** @internal */
  constructor(token: unknown, handle: Native.DescriptorSetLayout, device: Device, allocator: HostAllocator | null,
    bindings: ResolvedBinding[]) {
    checkConstruct(token, 'DescriptorSetLayout');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.bindings = Object.freeze(bindings.map((b) => Object.freeze(b)));
  }

  /** @internal */
  static handleOf(layout: DescriptorSetLayout): Native.DescriptorSetLayout {
    return DescriptorSetLayout.nativeOf(layout);
  }

  binding(index: number): Readonly<ResolvedBinding> | undefined {
    return this.bindings.find((b) => b.binding === index);
  }

  /** Vulkan's "identically defined": the same bindings (so sets of one fit pipelines made with the other). */
  compatibleWith(other: DescriptorSetLayout): boolean {
    if (other === this) return true;
    const key = (l: DescriptorSetLayout) => JSON.stringify([...l.bindings].sort((a, b) => a.binding - b.binding));
    return key(this) === key(other);
  }
}

/** createDescriptorSetLayout's options, checked. */
export function descriptorSetLayoutInfo(options: unknown): ResolvedBinding[] {
  const o = is.options(options, 'options', ['bindings'] as const);
  if (!Array.isArray(o.bindings)) is.fail('type', 'an array of { binding, type, count?, stages? }', 'bindings', o.bindings);
  const seen = new Set<number>();
  return o.bindings.map((b: unknown, i: number) => {
    const bo = is.options(b, `bindings[${i}]`, ['binding', 'type', 'count', 'stages'] as const);
    const binding = is.nonNegativeInteger(bo.binding, `bindings[${i}].binding`);
    if (seen.has(binding)) throw new RangeError(`bindings[${i}].binding ${binding} is listed twice`);
    seen.add(binding);
    const type = is.oneOf(bo.type, `bindings[${i}].type`, DESCRIPTOR_TYPES);
    const count = bo.count === undefined ? 1 : is.positiveInteger(bo.count, `bindings[${i}].count`, 0xffffffff);
    const stages = bo.stages === undefined ? SHADER_STAGE.compute : is.flags(bo.stages, `bindings[${i}].stages`, SHADER_STAGE);
    if (stages === 0) is.fail('range', 'at least one shader stage', `bindings[${i}].stages`, bo.stages);
    return { binding, type, count, stages };
  });
}

export interface DescriptorPoolOptions {
  maxSets: number;
  /** How many descriptors of each type the pool holds in all, e.g. { 'storage-buffer': 8 }. */
  sizes: Partial<Record<DescriptorType, number>>;
  flags?: DescriptorPoolFlag[] | number;
}

export class DescriptorPool extends VulkanObject<Native.DescriptorPool> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly maxSets: number;
  /** Whether sets may be freed one by one (flags ['free-descriptor-set']). */
  readonly freeable: boolean;

  /** @internal */
  constructor(token: unknown, handle: Native.DescriptorPool, device: Device, allocator: HostAllocator | null, maxSets: number,
    flags: number) {
    checkConstruct(token, 'DescriptorPool');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.maxSets = maxSets;
    this.freeable = (flags & DESCRIPTOR_POOL_FLAGS['free-descriptor-set']) !== 0;
  }

  /** One set per layout (vkAllocateDescriptorSets). A pool that is out of room throws VulkanError (VK_ERROR_OUT_OF_POOL_MEMORY). */
  allocateSets(layouts: DescriptorSetLayout[]): DescriptorSet[] {
    const handle = DescriptorPool.nativeOf(this);
    if (!Array.isArray(layouts) || layouts.length === 0) {
      is.fail(Array.isArray(layouts) ? 'range' : 'type', 'a non-empty array of DescriptorSetLayouts', 'layouts', layouts);
    }
    layouts.forEach((l, i) => {
      is.instanceOf(l, `layouts[${i}]`, DescriptorSetLayout, 'a DescriptorSetLayout');
      checkSameDevice(this.device, l, `layouts[${i}]`, 'DescriptorPool');
    });
    const sets = handle.allocateSets(layouts.map((l) => DescriptorSetLayout.handleOf(l)));
    return sets.map((s, i) => new DescriptorSet(CONSTRUCT, s, this, layouts[i]));
  }

  allocateSet(layout: DescriptorSetLayout): DescriptorSet {
    return this.allocateSets([layout])[0];
  }

  /** vkResetDescriptorPool: every set allocated from this pool is destroyed. */
  reset(): void {
    DescriptorPool.nativeOf(this).reset();
  }
}

/** createDescriptorPool's options, checked. */
export function descriptorPoolInfo(options: unknown): { maxSets: number; sizes: { type: number; count: number }[]; flags: number } {
  const o = is.options(options, 'options', ['maxSets', 'sizes', 'flags'] as const);
  const maxSets = is.positiveInteger(o.maxSets, 'maxSets', 0xffffffff);
  const sizes = is.options(o.sizes ?? null, 'sizes', DESCRIPTOR_TYPES);
  const list = Object.entries(sizes).map(([type, count]) => ({
    type: DESCRIPTOR_TYPE[type as DescriptorType], count: is.positiveInteger(count, `sizes['${type}']`, 0xffffffff),
  }));
  if (list.length === 0) is.fail('range', 'at least one descriptor type and count', 'sizes', o.sizes);
  const flags = o.flags === undefined ? 0 : is.flags(o.flags, 'flags', DESCRIPTOR_POOL_FLAGS);
  return { maxSets, sizes: list, flags };
}

/** A buffer range for a buffer descriptor: the whole buffer by default. */
export interface BufferDescriptor {
  buffer: Buffer;
  offset?: number;
  /** Bytes from offset; default: to the end of the buffer. */
  range?: number;
}

export interface ImageDescriptor {
  view: ImageView;
  /** The layout the image is in when the shader uses it (default 'general', what storage images need). */
  layout?: ImageLayout;
}

export interface DescriptorWrite {
  binding: number;
  /** First array element written (default 0). */
  arrayElement?: number;
  /** For buffer bindings: Buffers (whole) or { buffer, offset?, range? }. */
  buffers?: (Buffer | BufferDescriptor)[];
  /** For storage-image bindings: ImageViews (layout 'general') or { view, layout? }. */
  images?: (ImageView | ImageDescriptor)[];
}

export class DescriptorSet extends VulkanObject<Native.DescriptorSet> {
  readonly pool: DescriptorPool;
  readonly layout: DescriptorSetLayout;
  /** What each binding's elements refer to now (checked again when a command buffer using the set is submitted). */
  readonly #resources = new Map<string, Buffer | ImageView>();

  /** @internal */
  constructor(token: unknown, handle: Native.DescriptorSet, pool: DescriptorPool, layout: DescriptorSetLayout) {
    checkConstruct(token, 'DescriptorSet');
    super(handle);
    this.pool = pool;
    this.layout = layout;
  }

  get device(): Device {
    return this.pool.device;
  }

  /** The pool's allocator: descriptor sets live in their pool's memory. */
  get allocator(): HostAllocator | null {
    return this.pool.allocator;
  }

  /** @internal */
  static handleOf(set: DescriptorSet): Native.DescriptorSet {
    return DescriptorSet.nativeOf(set);
  }

  /** @internal The buffers and views this set refers to. */
  static resourcesOf(set: DescriptorSet): (Buffer | ImageView)[] {
    return [...set.#resources.values()];
  }

  /** Frees this set (vkFreeDescriptorSets): only for pools created with flags ['free-descriptor-set']. */
  override destroy(...args: unknown[]): void {
    DescriptorSet.nativeOf(this);
    if (!this.pool.freeable && !this.destroyed) {
      throw new Error("This DescriptorSet's pool was not created with flags ['free-descriptor-set']: " +
        'its sets go with the pool (reset() or destroy() the DescriptorPool)');
    }
    super.destroy(...args);
  }

  /** vkUpdateDescriptorSets: points bindings of this set at buffers or storage images. */
  update(writes: DescriptorWrite[]): void {
    const handle = DescriptorSet.nativeOf(this);
    if (!Array.isArray(writes)) is.fail('type', 'an array of { binding, buffers } or { binding, images }', 'writes', writes);
    const limits = this.device.physicalDevice.limits;
    const pending: [string, Buffer | ImageView][] = [];
    const out = writes.map((w: unknown, i: number) => {
      const name = `writes[${i}]`;
      const wo = is.options(w, name, ['binding', 'arrayElement', 'buffers', 'images'] as const);
      const bindingIndex = is.nonNegativeInteger(wo.binding, `${name}.binding`);
      const binding = this.layout.binding(bindingIndex);
      if (!binding) {
        throw new RangeError(`Expected a binding of this set's layout (${this.layout.bindings.map((b) => b.binding).join(', ')}) for ${name}.binding but received ${bindingIndex}`);
      }
      const arrayElement = wo.arrayElement === undefined ? 0 : is.integer(wo.arrayElement, `${name}.arrayElement`, 0, binding.count - 1);
      const wantBuffers = isBufferType(binding.type);
      const key = wantBuffers ? 'buffers' : 'images';
      const other = wantBuffers ? 'images' : 'buffers';
      if (wo[other] !== undefined) throw new TypeError(`${name}: binding ${bindingIndex} is a '${binding.type}' binding: give ${key}, not ${other}`);
      const list = wo[key];
      if (!Array.isArray(list) || list.length === 0) {
        is.fail(Array.isArray(list) ? 'range' : 'type', `a non-empty array of ${wantBuffers ? 'Buffers' : 'ImageViews'}`, `${name}.${key}`, list);
      }
      if (arrayElement + list.length > binding.count) {
        throw new RangeError(`${name} writes ${list.length} descriptors from element ${arrayElement}, past the ${binding.count} of binding ${bindingIndex}`);
      }
      const base = { binding: bindingIndex, arrayElement, type: DESCRIPTOR_TYPE[binding.type] };
      if (wantBuffers) {
        const uniform = binding.type.startsWith('uniform');
        const usage = uniform ? 'uniform' : 'storage';
        const alignment = uniform ? limits.minUniformBufferOffsetAlignment : limits.minStorageBufferOffsetAlignment;
        const maxRange = uniform ? limits.maxUniformBufferRange : limits.maxStorageBufferRange;
        const buffers = list.map((item: unknown, j: number) => {
          const at = `${name}.buffers[${j}]`;
          const d = item instanceof Buffer ? { buffer: item } : is.options(item, at, ['buffer', 'offset', 'range'] as const);
          const buffer = is.instanceOf(d.buffer, `${at}.buffer`, Buffer, 'a Buffer');
          checkSameDevice(this.device, buffer, `${at}.buffer`, 'DescriptorSet');
          checkUsable(buffer, `${at}.buffer`);
          if ((buffer.usage & (uniform ? 0x10 : 0x20)) === 0) {
            throw new RangeError(`${at}.buffer was not created with usage '${usage}', which a '${binding.type}' binding needs`);
          }
          const offset = d.offset === undefined ? 0 : is.integer(d.offset, `${at}.offset`, 0, buffer.size - 1);
          if (offset % alignment !== 0) {
            throw new RangeError(`Expected a multiple of ${alignment} (this device's min${uniform ? 'Uniform' : 'Storage'}BufferOffsetAlignment) for ${at}.offset but received ${offset}`);
          }
          const range = d.range === undefined ? buffer.size - offset : is.integer(d.range, `${at}.range`, 1, buffer.size - offset);
          if (range > maxRange) {
            throw new RangeError(`${at} covers ${range} bytes, more than this device's max${uniform ? 'Uniform' : 'Storage'}BufferRange (${maxRange}): bind a smaller range`);
          }
          pending.push([`${bindingIndex}:${arrayElement + j}`, buffer]);
          return { buffer: VulkanObject.nativeOf(buffer), offset, range: d.range === undefined ? -1 : range };
        });
        return { ...base, buffers };
      }
      const images = list.map((item: unknown, j: number) => {
        const at = `${name}.images[${j}]`;
        const d = item instanceof ImageView ? { view: item } : is.options(item, at, ['view', 'layout'] as const);
        const view = is.instanceOf(d.view, `${at}.view`, ImageView, 'an ImageView');
        checkSameDevice(this.device, view, `${at}.view`, 'DescriptorSet');
        if (!view.image.usageNames.includes('storage')) {
          throw new RangeError(`${at}.view is of an image not created with usage 'storage', which a 'storage-image' binding needs`);
        }
        const layout = d.layout === undefined ? 'general' : is.oneOf(d.layout, `${at}.layout`, Object.keys(IMAGE_LAYOUT) as ImageLayout[]);
        if (layout !== 'general') throw new RangeError(`Expected 'general' (the layout storage images are used in) for ${at}.layout but received "${layout}"`);
        pending.push([`${bindingIndex}:${arrayElement + j}`, view]);
        return { view: VulkanObject.nativeOf(view), layout: IMAGE_LAYOUT[layout] };
      });
      return { ...base, images };
    });
    handle.update(out);
    for (const [key, resource] of pending) this.#resources.set(key, resource);
  }
}

/** Throws unless `buffer` is alive and bound to live memory (a GPU touching unbacked memory may crash the process). */
export function checkUsable(buffer: Buffer, name: string): void {
  if (buffer.destroyed) throw new Error(`${name} is destroyed`);
  const bound = buffer.boundMemory;
  if (!bound) throw new Error(`${name} is not bound to memory: call bindMemory() first`);
  if (bound.memory.destroyed) throw new Error(`${name}'s memory has been destroyed`);
}
