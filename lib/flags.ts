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
