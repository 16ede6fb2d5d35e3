// PhysicalDevice: what a driver offers (properties, memory types, queue families),
// and createDevice().
import { Native } from '../native/binding';
import { Device, DeviceFeatures } from './device';
import {
  apiVersionString, makeApiVersion, DEVICE_TYPES, DeviceType, flagNames, FORMAT, Format, MEMORY_PROPERTY, MemoryProperty, QUEUE_CAPABILITY,
  QueueCapability,
} from '../util/flags';
import { allocatorOption } from '../allocator/host-allocator';
import type { AllocatorOptions, Instance } from './instance';
import { checkConstruct, CONSTRUCT, VulkanObject } from './resource';
import * as is from '../util/is';

export interface MemoryType {
  index: number;
  heapIndex: number;
  flags: number;
  properties: MemoryProperty[];
}

export interface MemoryHeap {
  index: number;
  size: number;
  deviceLocal: boolean;
}

export interface QueueFamily {
  index: number;
  queueCount: number;
  flags: number;
  capabilities: QueueCapability[];
  timestampValidBits: number;
}

export interface DeviceOptions {
  /** Queues to create: family index, how many (default 1) or their priorities (default 1.0 each). */
  queues: { family: number; count?: number; priorities?: number[] }[];
  extensions?: string[];
  /** Optional features to enable (each must be in physicalDevice.features). */
  features?: Partial<DeviceFeatures>;
}

export class PhysicalDevice extends VulkanObject<Native.PhysicalDevice> {
  readonly instance: Instance;
  readonly name: string;
  readonly type: DeviceType;
  readonly apiVersion: string;
  readonly driverVersion: number;
  readonly vendorID: number;
  readonly deviceID: number;
  /** The UUID pipeline caches made on this device carry (32 hex digits). */
  readonly pipelineCacheUUID: string;
  readonly driver: { id: number | null; name: string | null; info: string | null };
  readonly limits: Readonly<Native.NativeLimits>;
  /** The subgroup size the driver reports (Vulkan 1.1), for information: vkalloc's shaders never assume one. */
  readonly subgroupSize: number | null;
  /** The optional features the device supports (enable them in createDevice({ features })). */
  readonly features: Readonly<DeviceFeatures>;
  /** VkPhysicalDeviceProperties.apiVersion as a number (see apiVersion for the string). */
  readonly apiVersionNumber: number;
  readonly #devices = new Set<Device>();
  readonly memoryTypes: readonly MemoryType[];
  readonly memoryHeaps: readonly MemoryHeap[];
  readonly queueFamilies: readonly QueueFamily[];

  /** @internal */
  constructor(token: unknown, handle: Native.PhysicalDevice, instance: Instance) {
    checkConstruct(token, 'PhysicalDevice');
    super(handle);
    this.instance = instance;
    const p = handle.properties();
    this.name = p.deviceName;
    this.type = DEVICE_TYPES[p.deviceType] ?? 'other';
    this.apiVersion = apiVersionString(p.apiVersion);
    this.apiVersionNumber = p.apiVersion;
    this.driverVersion = p.driverVersion;
    this.vendorID = p.vendorID;
    this.deviceID = p.deviceID;
    this.pipelineCacheUUID = p.pipelineCacheUUID;
    this.driver = { id: p.driverID, name: p.driverName, info: p.driverInfo };
    this.limits = Object.freeze(p.limits);
    this.subgroupSize = p.subgroupSize;
    // A Vulkan 1.2 feature needs both the device and the instance at 1.2 or later.
    const supported = handle.features();
    const v12 = Math.min(p.apiVersion, instance.apiVersion) >= makeApiVersion(1, 2);
    this.features = Object.freeze({ timelineSemaphore: supported.timelineSemaphore && v12 });
    const m = handle.memoryProperties();
    this.memoryTypes = Object.freeze(m.memoryTypes.map((t, index) => ({
      index, heapIndex: t.heapIndex, flags: t.propertyFlags, properties: flagNames(t.propertyFlags, MEMORY_PROPERTY),
    })));
    this.memoryHeaps = Object.freeze(m.memoryHeaps.map((h, index) => ({ index, size: h.size, deviceLocal: (h.flags & 1) !== 0 })));
    this.queueFamilies = Object.freeze(handle.queueFamilies().map((f, index) => ({
      index, queueCount: f.queueCount, flags: f.queueFlags, capabilities: flagNames(f.queueFlags, QUEUE_CAPABILITY),
      timestampValidBits: f.timestampValidBits,
    })));
  }

  /** Physical devices are owned by their instance: destroy the instance instead. */
  override destroy(): void {
    throw new Error('A PhysicalDevice is not destroyed on its own: it goes with its Instance');
  }

  /**
   * The first memory type allowed by `typeBits` (a memoryRequirements().memoryTypeBits)
   * that has every `required` property, preferring one that also has the `preferred`
   * ones; -1 when none qualifies.
   */
  findMemoryType(typeBits: number, required: MemoryProperty[] = [], preferred: MemoryProperty[] = []): number {
    PhysicalDevice.liveNativeOf(this);
    is.uint32(typeBits, 'typeBits');
    const need = is.flags(required, 'required', MEMORY_PROPERTY);
    const want = need | is.flags(preferred, 'preferred', MEMORY_PROPERTY);
    const allowed = this.memoryTypes.filter((t) => (typeBits & (1 << t.index)) !== 0 && (t.flags & need) === need);
    return (allowed.find((t) => (t.flags & want) === want) ?? allowed[0])?.index ?? -1;
  }

  /** vkGetPhysicalDeviceFormatProperties: VkFormatFeatureFlags for linear and optimal tiling, and for buffers. */
  formatProperties(format: Format): { linearTilingFeatures: number; optimalTilingFeatures: number; bufferFeatures: number } {
    const handle = PhysicalDevice.liveNativeOf(this);
    return handle.formatProperties(FORMAT[is.oneOf(format, 'format', Object.keys(FORMAT) as Format[])].value);
  }

  /** @internal The live devices made from this physical device. */
  static devicesOf(pd: PhysicalDevice): Device[] {
    return [...pd.#devices].filter((d) => !d.destroyed);
  }

  /** The first queue family with every capability asked for; -1 when none. */
  findQueueFamily(...capabilities: QueueCapability[]): number {
    PhysicalDevice.liveNativeOf(this);
    const need = is.flags(capabilities, 'capabilities', QUEUE_CAPABILITY);
    return this.queueFamilies.find((f) => (f.flags & need) === need)?.index ?? -1;
  }

  createDevice(options: DeviceOptions, allocatorOptions?: AllocatorOptions): Device {
    const handle = PhysicalDevice.liveNativeOf(this);
    const o = is.options(options, 'options', ['queues', 'extensions', 'features'] as const);
    if (!Array.isArray(o.queues) || o.queues.length === 0) {
      is.fail(Array.isArray(o.queues) ? 'range' : 'type', 'a non-empty array of { family, count?, priorities? }', 'queues', o.queues);
    }
    const seen = new Set<number>();
    const queues = o.queues.map((q: unknown, i: number) => {
      const qo = is.options(q, `queues[${i}]`, ['family', 'count', 'priorities'] as const);
      const family = is.nonNegativeInteger(qo.family, `queues[${i}].family`, this.queueFamilies.length - 1);
      if (seen.has(family)) throw new RangeError(`queues[${i}].family ${family} is listed twice: give it one entry with a count`);
      seen.add(family);
      const max = this.queueFamilies[family].queueCount;
      let priorities: number[];
      if (qo.priorities !== undefined) {
        if (!Array.isArray(qo.priorities)) is.fail('type', 'an array of numbers from 0 to 1', `queues[${i}].priorities`, qo.priorities);
        priorities = qo.priorities.map((p: unknown, j: number) => {
          if (typeof p !== 'number') is.fail('type', 'a number from 0 to 1', `queues[${i}].priorities[${j}]`, p);
          if (!(p >= 0 && p <= 1)) is.fail('range', 'a number from 0 to 1', `queues[${i}].priorities[${j}]`, p);
          return p;
        });
        is.integer(priorities.length, `queues[${i}].priorities.length`, 1, max);
      } else {
        priorities = new Array(qo.count === undefined ? 1 : is.integer(qo.count, `queues[${i}].count`, 1, max)).fill(1);
      }
      return { family, priorities };
    });
    const extensions = o.extensions === undefined ? [] : is.stringArray(o.extensions, 'extensions');
    const f = is.options(o.features, 'features', Object.keys(this.features) as (keyof DeviceFeatures)[]);
    const features: DeviceFeatures = { timelineSemaphore: false };
    for (const key of Object.keys(f) as (keyof DeviceFeatures)[]) {
      features[key] = is.boolean(f[key], `features.${key}`);
      if (features[key] && !this.features[key]) throw new RangeError(`This physical device does not support features.${key}`);
    }
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createDevice options');
    const device = handle.createDevice({ queues, extensions, features }, bridge);
    const wrapped = new Device(CONSTRUCT, device, this, allocator, queues, features);
    this.#devices.add(wrapped);
    return wrapped;
  }
}
