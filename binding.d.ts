// The typed contract of the native module (native/*.cc). It is loaded in exactly one
// place, lib/binding.ts; everything else goes through the TypeScript API, which
// validates input before it crosses into C++.

/** VkSystemAllocationScope, by name (index = Vulkan's enum value). */
export type ScopeName = 'command' | 'object' | 'cache' | 'device' | 'instance';

export interface NativeScopeStats {
  allocations: number;
  reallocations: number;
  bytesAllocated: number;
  frees: number;
  bytesFreed: number;
  liveCount: number;
  liveBytes: number;
  peakBytes: number;
  internalBytes: number;
}

export interface NativeCommandStats {
  command: string;
  allocations: number;
  reallocations: number;
  frees: number;
  bytesAllocated: number;
  bytesFreed: number;
  /** Highest live bytes of this allocator while the command ran. */
  peakLiveBytes: number;
}

export interface NativeCallCounts {
  allocate: number;
  reallocate: number;
  free: number;
  internalAllocate: number;
  internalFree: number;
}

export interface NativeAllocatorStats {
  liveCount: number;
  liveBytes: number;
  peakCount: number;
  peakBytes: number;
  /** Blocks served by native code because the callback came off the JS thread. */
  nativeLiveCount: number;
  calls: NativeCallCounts;
  offThreadCalls: NativeCallCounts;
  /** Callbacks that returned NULL to the driver. */
  failures: number;
  /** Frees/reallocations of pointers this allocator never handed out. */
  unknownPointers: number;
  /** Allocation requests with an alignment that is not a power of two. */
  badAlignments: number;
  /** Policy calls that threw or returned something unusable. */
  policyErrors: number;
  /** Frees not yet handed to the policy (deferred to the end of the command, or queued off-thread). */
  pendingFrees: number;
  scopes: Record<ScopeName, NativeScopeStats>;
  commands: NativeCommandStats[];
}

export interface NativeLiveBlock {
  address: number;
  size: number;
  alignment: number;
  scope: ScopeName;
  owner: 'policy' | 'native';
  command: string;
}

/** Owns one VkAllocationCallbacks at a stable address; trampolines into the policy. */
export class AllocatorBridge {
  /** 'js': callbacks on the JS thread call the dispatcher; 'native': the C++ allocator serves all. */
  constructor(mode: 'js' | 'native');
  /** The Float64Array shared with the dispatcher (layout: native/allocator_bridge.h, namespace io); null in native mode. */
  readonly io: Float64Array | null;
  /** The one function callbacks call (lib/policy-dispatcher.ts); `policyReallocates`: the policy has reallocate. */
  setDispatcher(dispatcher: () => number, policyReallocates: boolean): void;
  stats(): NativeAllocatorStats;
  /** Resets peaks and per-command tables (live figures stay). */
  resetCounters(): void;
  liveBlocks(): NativeLiveBlock[];
  /** Hands deferred and queued frees to the policy now; returns how many. */
  drain(): number;
  /** The last exception (or rejection TypeError) the policy produced, or undefined. */
  readonly lastPolicyError: unknown;
}

export interface NativeInstanceInfo {
  applicationName: string;
  applicationVersion: number;
  engineName: string;
  apiVersion: number;
  layers: string[];
  extensions: string[];
  /** ICD manifest paths for VK_DRIVER_FILES/VK_ICD_FILENAMES, or null to use the loader's own search. */
  driverFiles: string[] | null;
}

export interface NativeMemoryType { propertyFlags: number; heapIndex: number; }
export interface NativeMemoryHeap { size: number; flags: number; }
export interface NativeQueueFamily { queueFlags: number; queueCount: number; timestampValidBits: number; }

export interface NativePhysicalDeviceProperties {
  deviceName: string;
  deviceType: number;
  apiVersion: number;
  driverVersion: number;
  vendorID: number;
  deviceID: number;
  /** From VkPhysicalDeviceDriverProperties when the device supports Vulkan 1.2, else null. */
  driverID: number | null;
  driverName: string | null;
  driverInfo: string | null;
  limits: { maxMemoryAllocationCount: number; nonCoherentAtomSize: number; minMemoryMapAlignment: number; };
}

export class Instance {
  private constructor();
  readonly destroyed: boolean;
  physicalDevices(): PhysicalDevice[];
  destroy(): void;
}

export class PhysicalDevice {
  private constructor();
  readonly destroyed: boolean;
  properties(): NativePhysicalDeviceProperties;
  memoryProperties(): { memoryTypes: NativeMemoryType[]; memoryHeaps: NativeMemoryHeap[] };
  queueFamilies(): NativeQueueFamily[];
  createDevice(info: { queues: { family: number; priorities: number[] }[]; extensions: string[] },
               allocator: AllocatorBridge | null): Device;
  /** Marks it destroyed (and its devices); the API layer forbids this and destroys the Instance instead. */
  destroy(): void;
}

export class Device {
  private constructor();
  readonly destroyed: boolean;
  queue(family: number, index: number): Queue;
  createBuffer(info: { size: number; usage: number; flags: number }, allocator: AllocatorBridge | null): Buffer;
  allocateMemory(info: { size: number; memoryTypeIndex: number }, allocator: AllocatorBridge | null): DeviceMemory;
  createFence(info: { signaled: boolean }, allocator: AllocatorBridge | null): Fence;
  waitIdle(): void;
  destroy(): void;
}

export class Buffer {
  private constructor();
  readonly destroyed: boolean;
  memoryRequirements(): { size: number; alignment: number; memoryTypeBits: number };
  bindMemory(memory: DeviceMemory, offset: number): void;
  destroy(): void;
}

export class DeviceMemory {
  private constructor();
  readonly destroyed: boolean;
  /** Maps [offset, offset+size) and returns an ArrayBuffer over it; detached on unmap/destroy. */
  map(offset: number, size: number): ArrayBuffer;
  unmap(): void;
  flush(offset: number, size: number): void;
  invalidate(offset: number, size: number): void;
  destroy(): void;
}

export class Queue {
  private constructor();
  readonly destroyed: boolean;
  /** Each batch is an (empty for now) VkSubmitInfo. */
  submit(batches: object[], fence: Fence | null): void;
  waitIdle(): void;
  /** See PhysicalDevice.destroy. */
  destroy(): void;
}

export class Fence {
  private constructor();
  readonly destroyed: boolean;
  /** true when signaled, false on timeout. */
  wait(timeoutNs: number): boolean;
  signaled(): boolean;
  reset(): void;
  destroy(): void;
}

export interface LoaderStatus {
  found: boolean;
  /** What dlopen was asked for, or the error it gave. */
  library: string;
  error: string | null;
  /** vkEnumerateInstanceVersion, when found. */
  instanceVersion: number | null;
}

export function createInstance(info: NativeInstanceInfo, allocator: AllocatorBridge | null): Instance;
export function loaderStatus(): LoaderStatus;
export function instanceLayers(): { name: string; specVersion: number; implementationVersion: number; description: string }[];
export function instanceExtensions(layer: string | null): { name: string; specVersion: number }[];

/** Registers the constructor native code uses to build VulkanError (message, result, code, command, cause). */
export function setErrorFactory(factory: (result: number, code: string, command: string, cause: unknown) => Error): void;

/** Memory that never moves and is never collected while held: for policies' raw blocks. */
export function chunkObtain(size: number): { address: number; buffer: ArrayBuffer } | null;
/** Detaches the chunk's ArrayBuffer and frees its memory. */
export function chunkRelease(buffer: ArrayBuffer): void;

/**
 * Internal, for tests only: plays a driver by calling a bridge's installed
 * VkAllocationCallbacks directly (scope is the VkSystemAllocationScope number).
 */
export const __testDriver: {
  allocate(bridge: AllocatorBridge, size: number, alignment: number, scope: number): number;
  reallocate(bridge: AllocatorBridge, original: number, size: number, alignment: number, scope: number): number;
  free(bridge: AllocatorBridge, address: number): void;
  internal(bridge: AllocatorBridge, allocate: boolean, size: number, scope: number): void;
  /** On a new thread, outside any command: frees `frees`, then makes `allocations` allocations. */
  offThread(bridge: AllocatorBridge, allocations: number, size: number, alignment: number, frees: number[]): number[];
  read(address: number, length: number): Uint8Array;
  write(address: number, bytes: Uint8Array): void;
  /** A driver's allocation loop, timed in ns (see native/test_driver.cc). */
  bench(bridge: AllocatorBridge | null, sizes: Float64Array, alignments: Float64Array, mode: 'pairs' | 'realloc' | 'malloc'): number;
};
