// Vulkan bit flags by readable name (values from vulkan_core.h).

export const BUFFER_USAGE = {
  'transfer-src': 0x1,
  'transfer-dst': 0x2,
  'uniform-texel': 0x4,
  'storage-texel': 0x8,
  uniform: 0x10,
  storage: 0x20,
  index: 0x40,
  vertex: 0x80,
  indirect: 0x100,
  'shader-device-address': 0x20000,
} as const;
export type BufferUsage = keyof typeof BUFFER_USAGE;

export const MEMORY_PROPERTY = {
  'device-local': 0x1,
  'host-visible': 0x2,
  'host-coherent': 0x4,
  'host-cached': 0x8,
  'lazily-allocated': 0x10,
  protected: 0x20,
} as const;
export type MemoryProperty = keyof typeof MEMORY_PROPERTY;

export const QUEUE_CAPABILITY = {
  graphics: 0x1,
  compute: 0x2,
  transfer: 0x4,
  'sparse-binding': 0x8,
  protected: 0x10,
} as const;
export type QueueCapability = keyof typeof QUEUE_CAPABILITY;

// ---- Issue 5: the objects of a compute workload ----

export const PIPELINE_STAGE = {
  'top-of-pipe': 0x1,
  'draw-indirect': 0x2,
  'compute-shader': 0x800,
  transfer: 0x1000,
  'bottom-of-pipe': 0x2000,
  host: 0x4000,
  'all-commands': 0x10000,
} as const;
export type PipelineStage = keyof typeof PIPELINE_STAGE;

export const ACCESS = {
  'indirect-command-read': 0x1,
  'uniform-read': 0x8,
  'shader-read': 0x20,
  'shader-write': 0x40,
  'transfer-read': 0x800,
  'transfer-write': 0x1000,
  'host-read': 0x2000,
  'host-write': 0x4000,
  'memory-read': 0x8000,
  'memory-write': 0x10000,
} as const;
export type Access = keyof typeof ACCESS;

export const SHADER_STAGE = {
  vertex: 0x1,
  fragment: 0x10,
  compute: 0x20,
  all: 0x7fffffff,
} as const;
export type ShaderStage = keyof typeof SHADER_STAGE;

/** VkDescriptorType values of the descriptor kinds vkalloc writes. */
export const DESCRIPTOR_TYPE = {
  'storage-image': 3,
  'uniform-buffer': 6,
  'storage-buffer': 7,
  'uniform-buffer-dynamic': 8,
  'storage-buffer-dynamic': 9,
} as const;
export type DescriptorType = keyof typeof DESCRIPTOR_TYPE;

/** VkInstanceCreateFlags. 'enumerate-portability' also lists portability drivers (MoltenVK). */
export const INSTANCE_FLAGS = {
  'enumerate-portability': 0x1,
} as const;
export type InstanceFlag = keyof typeof INSTANCE_FLAGS;

export const COMMAND_POOL_FLAGS = {
  transient: 0x1,
  'reset-command-buffer': 0x2,
} as const;
export type CommandPoolFlag = keyof typeof COMMAND_POOL_FLAGS;

export const COMMAND_BUFFER_USAGE = {
  'one-time-submit': 0x1,
  'simultaneous-use': 0x4,
} as const;
export type CommandBufferUsage = keyof typeof COMMAND_BUFFER_USAGE;

export const DESCRIPTOR_POOL_FLAGS = {
  'free-descriptor-set': 0x1,
} as const;
export type DescriptorPoolFlag = keyof typeof DESCRIPTOR_POOL_FLAGS;

/** VkFormat values of colour formats usable for storage images (and their texel size in bytes). */
export const FORMAT = {
  'r8-unorm': { value: 9, bytes: 1 },
  'rgba8-unorm': { value: 37, bytes: 4 },
  'rgba8-uint': { value: 41, bytes: 4 },
  'r32-uint': { value: 98, bytes: 4 },
  'r32-sint': { value: 99, bytes: 4 },
  'r32-sfloat': { value: 100, bytes: 4 },
  'rgba32-uint': { value: 107, bytes: 16 },
  'rgba32-sfloat': { value: 109, bytes: 16 },
} as const;
export type Format = keyof typeof FORMAT;

export const IMAGE_USAGE = {
  'transfer-src': 0x1,
  'transfer-dst': 0x2,
  sampled: 0x4,
  storage: 0x8,
} as const;
export type ImageUsage = keyof typeof IMAGE_USAGE;

export const IMAGE_LAYOUT = {
  undefined: 0,
  general: 1,
  'transfer-src': 6,
  'transfer-dst': 7,
} as const;
export type ImageLayout = keyof typeof IMAGE_LAYOUT;

export const IMAGE_TILING = { optimal: 0, linear: 1 } as const;
export type ImageTiling = keyof typeof IMAGE_TILING;

/** VkFormatFeatureFlags bits vkalloc checks. */
export const FORMAT_FEATURE = {
  'storage-image': 0x2,
  'transfer-src': 0x4000,
  'transfer-dst': 0x8000,
} as const;
export type FormatFeature = keyof typeof FORMAT_FEATURE;

/** VkDebugUtilsMessageSeverityFlagBitsEXT by name. */
export const MESSAGE_SEVERITY = {
  verbose: 0x1,
  info: 0x10,
  warning: 0x100,
  error: 0x1000,
} as const;
export type MessageSeverity = keyof typeof MESSAGE_SEVERITY;

/** VkDebugUtilsMessageTypeFlagBitsEXT by name. */
export const MESSAGE_TYPE = {
  general: 0x1,
  validation: 0x2,
  performance: 0x4,
} as const;
export type MessageType = keyof typeof MESSAGE_TYPE;

export const DEVICE_TYPES = ['other', 'integrated-gpu', 'discrete-gpu', 'virtual-gpu', 'cpu'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** The names of the bits set in `mask`. */
export function flagNames<K extends string>(mask: number, table: Readonly<Record<K, number>>): K[] {
  return (Object.keys(table) as K[]).filter((name) => (mask & table[name]) !== 0);
}

export function makeApiVersion(major: number, minor: number, patch = 0): number {
  return ((major << 22) | (minor << 12) | patch) >>> 0;
}

export function apiVersionString(version: number): string {
  return `${version >>> 22}.${(version >>> 12) & 0x3ff}.${version & 0xfff}`;
}
