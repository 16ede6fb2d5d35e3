// Pipelines: PipelineLayout (descriptor set layouts and push-constant ranges),
// ComputePipeline (a shader entry point with specialization constants) and
// PipelineCache (created from and serialized to bytes; the driver's CACHE scope).
import { Native } from '../native/binding';
import { DescriptorSetLayout } from './descriptor';
import type { Device } from './device';
import { SHADER_STAGE, ShaderStage } from '../util/flags';
import type { HostAllocator } from '../allocator/host-allocator';
import { checkConstruct, checkSameDevice, VulkanObject } from './resource';
import { ShaderModule, SpecializationType } from './shader-module';
import * as is from '../util/is';

export interface PushConstantRange {
  /** Default ['compute']. */
  stages?: ShaderStage[] | number;
  /** Bytes, a multiple of 4 (default 0). */
  offset?: number;
  /** Bytes, a multiple of 4. */
  size: number;
}

export interface PipelineLayoutOptions {
  setLayouts?: DescriptorSetLayout[];
  pushConstantRanges?: PushConstantRange[];
}

export type ResolvedRange = { stages: number; offset: number; size: number };

export class PipelineLayout extends VulkanObject<Native.PipelineLayout> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly setLayouts: readonly DescriptorSetLayout[];
  readonly pushConstantRanges: readonly Readonly<ResolvedRange>[];

  /** @internal */
  constructor(token: unknown, handle: Native.PipelineLayout, device: Device, allocator: HostAllocator | null,
    setLayouts: DescriptorSetLayout[], ranges: ResolvedRange[]) {
    checkConstruct(token, 'PipelineLayout');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.setLayouts = Object.freeze([...setLayouts]);
    this.pushConstantRanges = Object.freeze(ranges.map((r) => Object.freeze(r)));
  }

  /** @internal */
  static handleOf(layout: PipelineLayout): Native.PipelineLayout {
    return PipelineLayout.nativeOf(layout);
  }
}

/** createPipelineLayout's options, checked against the device's limits. */
export function pipelineLayoutInfo(options: unknown, device: Device): { setLayouts: DescriptorSetLayout[]; ranges: ResolvedRange[] } {
  const o = is.options(options, 'options', ['setLayouts', 'pushConstantRanges'] as const);
  const limits = device.physicalDevice.limits;
  const setLayouts = o.setLayouts === undefined ? [] : o.setLayouts;
  if (!Array.isArray(setLayouts)) is.fail('type', 'an array of DescriptorSetLayouts', 'setLayouts', setLayouts);
  setLayouts.forEach((l: unknown, i: number) => {
    is.instanceOf(l, `setLayouts[${i}]`, DescriptorSetLayout, 'a DescriptorSetLayout');
    checkSameDevice(device, l as DescriptorSetLayout, `setLayouts[${i}]`, 'Device');
  });
  if (setLayouts.length > limits.maxBoundDescriptorSets) {
    throw new RangeError(`Expected at most ${limits.maxBoundDescriptorSets} (this device's maxBoundDescriptorSets) set layouts for setLayouts but received ${setLayouts.length}`);
  }
  const rangesIn = o.pushConstantRanges === undefined ? [] : o.pushConstantRanges;
  if (!Array.isArray(rangesIn)) is.fail('type', 'an array of { stages?, offset?, size }', 'pushConstantRanges', rangesIn);
  const max = limits.maxPushConstantsSize;
  const ranges = rangesIn.map((r: unknown, i: number) => {
    const name = `pushConstantRanges[${i}]`;
    const ro = is.options(r, name, ['stages', 'offset', 'size'] as const);
    const stages = ro.stages === undefined ? SHADER_STAGE.compute : is.flags(ro.stages, `${name}.stages`, SHADER_STAGE);
    if (stages === 0) is.fail('range', 'at least one shader stage', `${name}.stages`, ro.stages);
    const offset = ro.offset === undefined ? 0 : is.integer(ro.offset, `${name}.offset`, 0, max - 4);
    if (offset % 4 !== 0) is.fail('range', 'a multiple of 4', `${name}.offset`, offset);
    const size = is.integer(ro.size, `${name}.size`, 4, max - offset);
    if (size % 4 !== 0) is.fail('range', 'a multiple of 4', `${name}.size`, size);
    return { stages, offset, size };
  });
  ranges.forEach((a, i) => ranges.forEach((b, j) => {
    if (i < j && (a.stages & b.stages) !== 0) throw new RangeError(`pushConstantRanges[${i}] and [${j}] name the same shader stage: Vulkan allows one range per stage`);
  }));
  return { setLayouts: setLayouts as DescriptorSetLayout[], ranges };
}

export class PipelineCache extends VulkanObject<Native.PipelineCache> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;

  /** @internal */
  constructor(token: unknown, handle: Native.PipelineCache, device: Device, allocator: HostAllocator | null) {
    checkConstruct(token, 'PipelineCache');
    super(handle);
    this.device = device;
    this.allocator = allocator;
  }

  /** @internal */
  static handleOf(cache: PipelineCache): Native.PipelineCache {
    return PipelineCache.nativeOf(cache);
  }

  /**
   * The cache serialized (vkGetPipelineCacheData): give it to createPipelineCache({ initialData })
   * later. A Node Buffer, typed as the Uint8Array it is so that the shipped types need no @types/node.
   */
  data(): Uint8Array {
    const bytes = PipelineCache.nativeOf(this).data();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/** The header every vkGetPipelineCacheData blob starts with (VK_PIPELINE_CACHE_HEADER_VERSION_ONE). */
export interface PipelineCacheHeader {
  headerSize: number;
  headerVersion: number;
  vendorID: number;
  deviceID: number;
  /** pipelineCacheUUID, as 32 hex digits. */
  uuid: string;
}

/** Reads a cache blob's header; null when the bytes are too short or not version one. */
export function pipelineCacheHeader(data: Uint8Array): PipelineCacheHeader | null {
  if (data.byteLength < 32) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headerSize = view.getUint32(0, true);
  const headerVersion = view.getUint32(4, true);
  if (headerSize < 32 || headerSize > data.byteLength || headerVersion !== 1) return null;
  return {
    headerSize, headerVersion, vendorID: view.getUint32(8, true), deviceID: view.getUint32(12, true),
    uuid: Buffer.from(data.buffer, data.byteOffset + 16, 16).toString('hex'),
  };
}

/** createPipelineCache's options, checked: initial data must be a cache blob (a driver given other bytes may misbehave). */
export function pipelineCacheInfo(options: unknown): { initialData: Uint8Array | null } {
  const o = is.options(options, 'options', ['initialData'] as const);
  if (o.initialData === undefined || o.initialData === null) return { initialData: null };
  if (!(o.initialData instanceof Uint8Array)) is.fail('type', 'a Buffer or Uint8Array from pipelineCache.data()', 'initialData', o.initialData);
  if (o.initialData.byteLength > 0 && !pipelineCacheHeader(o.initialData)) {
    throw new RangeError('Expected pipeline cache data (a VK_PIPELINE_CACHE_HEADER_VERSION_ONE header first) for initialData ' +
      `but received ${o.initialData.byteLength} bytes without one`);
  }
  return { initialData: o.initialData };
}

/** A specialization value: a number (encoded as the constant's declared type) or a boolean. */
export type SpecializationValue = number | boolean;

export interface ComputePipelineOptions {
  layout: PipelineLayout;
  module: ShaderModule;
  /** Default 'main'. */
  entryPoint?: string;
  /** constant_id -> value, e.g. { 0: 256 } for layout(local_size_x_id = 0). */
  specialization?: Record<number, SpecializationValue>;
  cache?: PipelineCache;
}

export class ComputePipeline extends VulkanObject<Native.Pipeline> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly layout: PipelineLayout;
  readonly entryPoint: string;

  /** @internal */
  constructor(token: unknown, handle: Native.Pipeline, device: Device, allocator: HostAllocator | null, layout: PipelineLayout,
    entryPoint: string) {
    checkConstruct(token, 'ComputePipeline');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.layout = layout;
    this.entryPoint = entryPoint;
  }

  /** @internal */
  static handleOf(pipeline: ComputePipeline): Native.Pipeline {
    return ComputePipeline.nativeOf(pipeline);
  }
}

const SPEC_SIZES: Record<SpecializationType, number> = { bool: 4, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8 };
const INT_RANGES: Partial<Record<SpecializationType, [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** createComputePipeline's options, checked against the module's entry points and specialization constants. */
export function computePipelineInfo(options: unknown, device: Device): {
  native: Parameters<Native.Device['createComputePipeline']>[0]; layout: PipelineLayout; entryPoint: string;
} {
  const o = is.options(options, 'options', ['layout', 'module', 'entryPoint', 'specialization', 'cache'] as const);
  const layout = is.instanceOf(o.layout, 'layout', PipelineLayout, 'a PipelineLayout');
  const module = is.instanceOf(o.module, 'module', ShaderModule, 'a ShaderModule');
  checkSameDevice(device, layout, 'layout', 'Device');
  checkSameDevice(device, module, 'module', 'Device');
  const entryPoint = o.entryPoint === undefined ? 'main' : is.string(o.entryPoint, 'entryPoint');
  if (!module.entryPoints.some((e) => e.name === entryPoint && e.executionModel === 'GLCompute')) {
    const have = module.entryPoints.map((e) => `'${e.name}' (${e.executionModel})`).join(', ') || 'none';
    throw new RangeError(`Expected a compute entry point of the module for entryPoint but received "${entryPoint}" (the module has ${have})`);
  }
  let cache: PipelineCache | null = null;
  if (o.cache !== undefined) {
    cache = is.instanceOf(o.cache, 'cache', PipelineCache, 'a PipelineCache');
    checkSameDevice(device, cache, 'cache', 'Device');
  }
  let specialization: { entries: { id: number; offset: number; size: number }[]; data: Uint8Array } | null = null;
  const values = new Map<number, SpecializationValue>();
  if (o.specialization !== undefined) {
    if (o.specialization === null || typeof o.specialization !== 'object' || Array.isArray(o.specialization)) {
      is.fail('type', 'an object of constant_id -> value', 'specialization', o.specialization);
    }
    const declared = new Map(module.specializationConstants.map((c) => [c.id, c.type]));
    const entries: { id: number; offset: number; size: number }[] = [];
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const [key, value] of Object.entries(o.specialization as Record<string, unknown>)) {
      const name = `specialization[${key}]`;
      const id = Number(key);
      const type = declared.get(id);
      if (!Number.isInteger(id) || type === undefined) {
        const ids = [...declared.keys()].join(', ') || 'none';
        throw new RangeError(`Expected a constant_id the shader declares (${ids}) for specialization but received ${JSON.stringify(key)}`);
      }
      const chunk = Buffer.alloc(SPEC_SIZES[type]);
      if (type === 'bool') {
        chunk.writeUInt32LE(is.boolean(value, name) ? 1 : 0);
      } else {
        if (typeof value !== 'number') is.fail('type', `a number (the constant is ${type})`, name, value);
        const range = INT_RANGES[type];
        if (range) {
          if (!Number.isInteger(value) || value < range[0] || value > range[1]) is.fail('range', `an integer between ${range[0]} and ${range[1]} (the constant is ${type})`, name, value);
          if (type === 'int32') chunk.writeInt32LE(value);
          else if (type === 'uint32') chunk.writeUInt32LE(value);
          else if (type === 'int64') chunk.writeBigInt64LE(BigInt(value));
          else chunk.writeBigUInt64LE(BigInt(value));
        } else if (type === 'float32') {
          chunk.writeFloatLE(value);
        } else {
          chunk.writeDoubleLE(value);
        }
      }
      values.set(id, value as SpecializationValue);
      entries.push({ id, offset, size: chunk.length });
      chunks.push(chunk);
      offset += chunk.length;
    }
    specialization = { entries, data: new Uint8Array(Buffer.concat(chunks)) };
  }
  return {
    native: {
      layout: PipelineLayout.handleOf(layout), module: ShaderModule.handleOf(module), entryPoint,
      cache: cache ? PipelineCache.handleOf(cache) : null, specialization,
    },
    layout, entryPoint,
  };
}
