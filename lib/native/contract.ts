// The typed contract of the native module (native/). It is loaded in exactly one
// place, lib/native/binding.ts; everything else goes through the TypeScript API,
// which checks input before it crosses into C++. Declarations only: no code.

/** VkSystemAllocationScope, by name (index = Vulkan's enum value). */
import type { ScopeName } from './boundary';
export type { ScopeName };

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
export declare class AllocatorBridge {
  /** 'js': callbacks on the JS thread call the dispatcher; 'native': the C++ allocator serves all. */
  constructor(mode: 'js' | 'native');
  /** The Float64Array shared with the dispatcher (layout: native/bridge/allocator_bridge.h, namespace io); null in native mode. */
  readonly io: Float64Array | null;
  /** The one function callbacks call (lib/allocator/policy-dispatcher.ts); `policyReallocates`: the policy has reallocate. */
  setDispatcher(dispatcher: () => number, policyReallocates: boolean): void;
  /**
   * Ready blocks (lib/allocator/ready-stock.ts): JS-thread allocations that fit a class
   * (bounds ascending, alignment <= maxAlignment) take a block from `stock` with no call.
   */
  setReadyClasses(stock: ArrayBuffer, bounds: number[], maxAlignment: number): void;
  startTrace(options: { capacity: number; maxEvents: number; grow: boolean; callSites: boolean }): void;
  /** Validation mode (native/core/validator.h); `throwAfterCommand`: throw AllocationViolationError after a command. */
  enableContractChecks(throwAfterCommand: boolean): void;
  violations(take: boolean): { kind: string; command: string; object: string | null; thread: 'js' | 'other'; address: number; size: number; detail: string }[];
  /** The recorded events (56 bytes each, native/core/trace_recorder.h) and tables; see lib/trace/recorder.ts. */
  stopTrace(): {
    events: ArrayBuffer; count: number; dropped: number; commands: string[];
    objects: { id: number; type: string; createdBy: string; createdAt: number; destroyedAt: number | null; parent: number }[];
    callSites: Record<string, string>;
  };
  stats(): NativeAllocatorStats;
  /** Resets peaks and per-command tables (live figures stay). */
  resetCounters(): void;
  liveBlocks(): NativeLiveBlock[];
  /** Hands the ready blocks taken and the deferred and queued frees to the policy now; returns how many frees. */
  drain(): number;
  /** Gives the freed native blocks the JS thread keeps for reuse back to malloc; returns how many. */
  releaseCache(): number;
  /** The last exception (or rejection TypeError) the policy produced, or undefined. */
  readonly lastPolicyError: unknown;
  /**
   * Sweeps: refuse every allocation and reallocation request on the JS thread from the
   * `point`-th on (counted from 0, counts start over), before any policy is asked; null
   * stops. `holdLibrary`: at the first refusal, hold this driver library once loaded.
   */
  failFrom(point: number | null, holdLibrary?: string): void;
  /** Requests seen and refused since the last failFrom(). */
  faultCounts(): { requests: number; refused: number };
}

export interface NativeInstanceInfo {
  applicationName: string;
  applicationVersion: number;
  engineName: string;
  apiVersion: number;
  layers: string[];
  extensions: string[];
  /** VkInstanceCreateFlags. */
  flags: number;
  /** ICD manifest paths for VK_DRIVER_FILES/VK_ICD_FILENAMES, or null to use the loader's own search. */
  driverFiles: string[] | null;
  /**
   * A VK_EXT_debug_utils messenger (the caller has put the layer and extension in the
   * lists): VkDebugUtilsMessageSeverityFlagsEXT / TypeFlagsEXT masks, and a function
   * called without arguments from the event loop when messages arrive.
   */
  validation?: { severities: number; types: number; notify: (() => void) | null } | null;
}

export interface NativeValidationMessage {
  severity: 'verbose' | 'info' | 'warning' | 'error';
  types: ('general' | 'validation' | 'performance')[];
  /** pMessageIdName, e.g. 'VUID-vkCmdDispatch-None-02697' ('' when none). */
  id: string;
  idNumber: number;
  message: string;
  /** The vkalloc command running on the JS thread when the layer spoke, or null. */
  command: string | null;
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
  /** 32 hex digits: what a pipeline cache made on this device carries in its header. */
  pipelineCacheUUID: string;
  /** From VkPhysicalDeviceDriverProperties when the device supports Vulkan 1.2, else null. */
  driverID: number | null;
  driverName: string | null;
  driverInfo: string | null;
  limits: NativeLimits;
  /** VkPhysicalDeviceSubgroupProperties.subgroupSize (Vulkan 1.1), else null. Reported, never assumed. */
  subgroupSize: number | null;
}

/** The VkPhysicalDeviceLimits vkalloc reports. */
export interface NativeLimits {
  maxMemoryAllocationCount: number;
  nonCoherentAtomSize: number;
  minMemoryMapAlignment: number;
  maxComputeWorkGroupCount: [number, number, number];
  maxComputeWorkGroupSize: [number, number, number];
  maxComputeWorkGroupInvocations: number;
  maxComputeSharedMemorySize: number;
  maxPushConstantsSize: number;
  maxBoundDescriptorSets: number;
  maxStorageBufferRange: number;
  maxUniformBufferRange: number;
  minStorageBufferOffsetAlignment: number;
  minUniformBufferOffsetAlignment: number;
  maxImageDimension2D: number;
  optimalBufferCopyOffsetAlignment: number;
}

export declare class Instance {
  private constructor();
  readonly destroyed: boolean;
  physicalDevices(): PhysicalDevice[];
  /** Drains the messages collected since the last call; works after destroy too. */
  takeValidationMessages(): NativeValidationMessage[];
  destroy(): void;
}

export declare class PhysicalDevice {
  private constructor();
  readonly destroyed: boolean;
  properties(): NativePhysicalDeviceProperties;
  memoryProperties(): { memoryTypes: NativeMemoryType[]; memoryHeaps: NativeMemoryHeap[] };
  queueFamilies(): NativeQueueFamily[];
  createDevice(info: { queues: { family: number; priorities: number[] }[]; extensions: string[];
    features?: { timelineSemaphore: boolean } },
    allocator: AllocatorBridge | null): Device;
  features(): { timelineSemaphore: boolean };
  /** vkGetPhysicalDeviceFormatProperties (VkFormatFeatureFlags masks). */
  formatProperties(format: number): { linearTilingFeatures: number; optimalTilingFeatures: number; bufferFeatures: number };
  /** Marks it destroyed (and its devices); the API layer forbids this and destroys the Instance instead. */
  destroy(): void;
}

export declare class Device {
  private constructor();
  readonly destroyed: boolean;
  queue(family: number, index: number): Queue;
  createBuffer(info: { size: number; usage: number; flags: number }, allocator: AllocatorBridge | null): Buffer;
  allocateMemory(info: { size: number; memoryTypeIndex: number }, allocator: AllocatorBridge | null): DeviceMemory;
  createFence(info: { signaled: boolean }, allocator: AllocatorBridge | null): Fence;
  waitIdle(): void;
  /**
   * vkDeviceWaitIdle on a thread of its own; settles on the JS thread. Rejects with a
   * VulkanError, or an Error when the device is destroyed meanwhile (it waits for the idle first).
   */
  waitIdleAsync(): Promise<void>;
  /** For process exit: stops the asynchronous waits, then vkDeviceWaitIdle if work was submitted. Never throws. */
  quiesce(): void;
  createSemaphore(info: { timeline: boolean; initialValue: number }, allocator: AllocatorBridge | null): Semaphore;
  createCommandPool(info: { queueFamily: number; flags: number }, allocator: AllocatorBridge | null): CommandPool;
  /** `code`: SPIR-V words (checked by lib/vulkan/shader-module.ts). */
  createShaderModule(info: { code: Uint32Array | Uint8Array }, allocator: AllocatorBridge | null): ShaderModule;
  createDescriptorSetLayout(info: { bindings: { binding: number; type: number; count: number; stages: number }[] },
    allocator: AllocatorBridge | null): DescriptorSetLayout;
  createDescriptorPool(info: { maxSets: number; sizes: { type: number; count: number }[]; flags: number },
    allocator: AllocatorBridge | null): DescriptorPool;
  createPipelineLayout(info: { setLayouts: DescriptorSetLayout[]; pushConstantRanges: { stages: number; offset: number; size: number }[] },
    allocator: AllocatorBridge | null): PipelineLayout;
  createPipelineCache(info: { initialData: Uint8Array | null }, allocator: AllocatorBridge | null): PipelineCache;
  /** One compute pipeline (vkCreateComputePipelines with a count of 1). */
  createComputePipeline(info: {
    layout: PipelineLayout; module: ShaderModule; entryPoint: string; cache: PipelineCache | null;
    specialization: { entries: { id: number; offset: number; size: number }[]; data: Uint8Array } | null;
  }, allocator: AllocatorBridge | null): Pipeline;
  /** A 2D image, one mip level and layer, initial layout UNDEFINED; `flags`: VkImageCreateFlags. */
  createImage(info: { format: number; width: number; height: number; usage: number; tiling: number; flags: number },
    allocator: AllocatorBridge | null): Image;
  destroy(): void;
}

export declare class Buffer {
  private constructor();
  readonly destroyed: boolean;
  memoryRequirements(): { size: number; alignment: number; memoryTypeBits: number };
  bindMemory(memory: DeviceMemory, offset: number): void;
  destroy(): void;
}

export declare class DeviceMemory {
  private constructor();
  readonly destroyed: boolean;
  /** Maps [offset, offset+size) and returns an ArrayBuffer over it; detached on unmap/destroy. */
  map(offset: number, size: number): ArrayBuffer;
  unmap(): void;
  flush(offset: number, size: number): void;
  invalidate(offset: number, size: number): void;
  destroy(): void;
}

export declare class Queue {
  private constructor();
  readonly destroyed: boolean;
  /** Each batch is a VkSubmitInfo; `timeline` chains a VkTimelineSemaphoreSubmitInfo with the values. */
  submit(batches: NativeSubmitBatch[], fence: Fence | null): void;
  waitIdle(): void;
  /** See PhysicalDevice.destroy. */
  destroy(): void;
}

export declare class Fence {
  private constructor();
  readonly destroyed: boolean;
  /** true when signaled, false on timeout. */
  wait(timeoutNs: number): boolean;
  /**
   * vkWaitForFences on a thread of its own (in slices, so destroy and teardown can stop
   * it); resolves on the JS thread with true when signaled, false on timeout. Rejects
   * with a VulkanError, or an Error when the fence or its device is destroyed meanwhile.
   */
  waitAsync(timeoutNs: number): Promise<boolean>;
  signaled(): boolean;
  reset(): void;
  destroy(): void;
}

export interface NativeSubmitBatch {
  commandBuffers: CommandBuffer[];
  /** `stage`: VkPipelineStageFlags; `value`: for timeline semaphores (ignored for binary ones). */
  waits: { semaphore: Semaphore; value: number; stage: number }[];
  signals: { semaphore: Semaphore; value: number }[];
  timeline: boolean;
}

export declare class Semaphore {
  private constructor();
  readonly destroyed: boolean;
  /** Timeline only: vkGetSemaphoreCounterValue. */
  value(): number;
  /** Timeline only: vkWaitSemaphores for `value`; true when reached, false on timeout. */
  wait(value: number, timeoutNs: number): boolean;
  /** Timeline only: vkSignalSemaphore. */
  signal(value: number): void;
  destroy(): void;
}

export declare class CommandPool {
  private constructor();
  readonly destroyed: boolean;
  /** Primary command buffers, children of the pool (served by the pool's allocator). */
  allocateCommandBuffers(count: number): CommandBuffer[];
  reset(releaseResources: boolean): void;
  destroy(): void;
}

/** Image regions: colour aspect, mip 0, layer 0. */
export interface NativeImageRegion {
  bufferOffset: number; bufferRowLength: number; bufferImageHeight: number;
  x: number; y: number; width: number; height: number;
}

/** Recording methods map one to one onto vkCmd*; the bind point is always COMPUTE. */
export declare class CommandBuffer {
  private constructor();
  readonly destroyed: boolean;
  begin(flags: number): void;
  end(): void;
  reset(releaseResources: boolean): void;
  /** `size` -1: VK_WHOLE_SIZE. */
  fillBuffer(buffer: Buffer, offset: number, size: number, data: number): void;
  updateBuffer(buffer: Buffer, offset: number, data: Uint8Array): void;
  copyBuffer(src: Buffer, dst: Buffer, regions: { srcOffset: number; dstOffset: number; size: number }[]): void;
  copyBufferToImage(buffer: Buffer, image: Image, layout: number, regions: NativeImageRegion[]): void;
  copyImageToBuffer(image: Image, layout: number, buffer: Buffer, regions: NativeImageRegion[]): void;
  pipelineBarrier(srcStages: number, dstStages: number,
    memory: { srcAccess: number; dstAccess: number }[],
    buffers: { buffer: Buffer; srcAccess: number; dstAccess: number; offset: number; size: number }[],
    images: { image: Image; srcAccess: number; dstAccess: number; oldLayout: number; newLayout: number }[]): void;
  bindPipeline(pipeline: Pipeline): void;
  bindDescriptorSets(layout: PipelineLayout, firstSet: number, sets: DescriptorSet[], dynamicOffsets: number[]): void;
  pushConstants(layout: PipelineLayout, stages: number, offset: number, data: Uint8Array): void;
  dispatch(x: number, y: number, z: number): void;
  destroy(): void;
}

export declare class ShaderModule {
  private constructor();
  readonly destroyed: boolean;
  destroy(): void;
}

export declare class DescriptorSetLayout {
  private constructor();
  readonly destroyed: boolean;
  destroy(): void;
}

export declare class DescriptorPool {
  private constructor();
  readonly destroyed: boolean;
  /** One set per layout (vkAllocateDescriptorSets), children of the pool. */
  allocateSets(layouts: DescriptorSetLayout[]): DescriptorSet[];
  /** vkResetDescriptorPool: every set of the pool is destroyed (not freed one by one). */
  reset(): void;
  destroy(): void;
}

export declare class DescriptorSet {
  private constructor();
  readonly destroyed: boolean;
  /** vkUpdateDescriptorSets; `range` -1: VK_WHOLE_SIZE. */
  update(writes: {
    binding: number; arrayElement: number; type: number;
    buffers?: { buffer: Buffer; offset: number; range: number }[];
    images?: { view: ImageView; layout: number }[];
  }[]): void;
  /** vkFreeDescriptorSets when the pool allows it, else only forgotten (the API layer refuses it then). */
  destroy(): void;
}

export declare class PipelineLayout {
  private constructor();
  readonly destroyed: boolean;
  destroy(): void;
}

export declare class PipelineCache {
  private constructor();
  readonly destroyed: boolean;
  /** vkGetPipelineCacheData (a copy). */
  data(): Uint8Array;
  destroy(): void;
}

export declare class Pipeline {
  private constructor();
  readonly destroyed: boolean;
  destroy(): void;
}

export declare class Image {
  private constructor();
  readonly destroyed: boolean;
  memoryRequirements(): { size: number; alignment: number; memoryTypeBits: number };
  bindMemory(memory: DeviceMemory, offset: number): void;
  /** A 2D colour view, a child of the image. */
  createView(info: { format: number }, allocator: AllocatorBridge | null): ImageView;
  destroy(): void;
}

export declare class ImageView {
  private constructor();
  readonly destroyed: boolean;
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

export declare function createInstance(info: NativeInstanceInfo, allocator: AllocatorBridge | null): Instance;
export declare function loaderStatus(): LoaderStatus;
/**
 * Takes one more reference to a shared library that is already loaded (dlopen with
 * RTLD_NOLOAD), never dropped; false when it is not loaded. Sweep workers keep a driver.
 */
export declare function holdLoadedLibrary(path: string): boolean;
/** The Vulkan command running on this thread's environment, or null. */
export declare function currentCommand(): string | null;
export declare function instanceLayers(): { name: string; specVersion: number; implementationVersion: number; description: string }[];
export declare function instanceExtensions(layer: string | null): { name: string; specVersion: number }[];

/**
 * In-process attach (native/bridge/attach.cc): loads the vkalloc layer from `libraryPath`
 * (once per process), hands it `bridge`'s callbacks for every object created with a NULL
 * pAllocator, holds `holder` while they are used, and sets `env` (name, value) for the
 * loader until detachLayer().
 */
export declare function attachLayer(libraryPath: string, bridge: AllocatorBridge, holder: unknown[], env: [string, string][]): void;
/** Detaches this environment's allocator; returns how many objects still use it (-1: none was attached). */
export declare function detachLayer(): number;
/** This environment's attached allocator and the detached ones objects still use. */
export declare function layerAttachments(): { holder: unknown[]; attached: boolean; liveObjects: number }[];

/** Registers the constructor native code uses to build VulkanError (message, result, code, command, cause). */
export declare function setErrorFactory(factory: (result: number, code: string, command: string, cause: unknown) => Error): void;

/** Memory that never moves and is never collected while held: for policies' raw blocks. */
export declare function chunkObtain(size: number): { address: number; buffer: ArrayBuffer } | null;
/** Detaches the chunk's ArrayBuffer and frees its memory. */
export declare function chunkRelease(buffer: ArrayBuffer): void;
/** This environment's live chunks (mapped: those with a mapping of their own, 64 KiB and up). */
export declare function chunkStats(): { chunks: number; bytes: number; mappedChunks: number; mappedBytes: number; spareMappedBytes: number };
/** Every live object ("<Type>#<id>") with the allocator it was created with. */
export declare function liveObjects(): { name: string; allocator: AllocatorBridge | null }[];

/**
 * Internal, for tests only: plays a driver by calling a bridge's installed
 * VkAllocationCallbacks directly (scope is the VkSystemAllocationScope number).
 */
export declare const __testDriver: {
  allocate(bridge: AllocatorBridge, size: number, alignment: number, scope: number): number;
  reallocate(bridge: AllocatorBridge, original: number, size: number, alignment: number, scope: number): number;
  free(bridge: AllocatorBridge, address: number): void;
  internal(bridge: AllocatorBridge, allocate: boolean, size: number, scope: number, type?: number): void;
  /** On a new thread, outside any command: frees `frees`, then makes `allocations` allocations. */
  offThread(bridge: AllocatorBridge, allocations: number, size: number, alignment: number, frees: number[]): number[];
  /** pfnAllocation on the JS thread while no command runs. */
  outsideCommand(bridge: AllocatorBridge, size: number): number;
  /** Frees `frees` from another thread while a command runs on the JS thread. */
  duringCommand(bridge: AllocatorBridge, frees: number[]): void;
  read(address: number, length: number): Uint8Array;
  write(address: number, bytes: Uint8Array): void;
  /**
   * The JS thread and a thread of its own each make `pairs` allocations at once, inside
   * one command; whether the registry's lock is still biased towards the JS thread after.
   */
  contend(bridge: AllocatorBridge, pairs: number): boolean;
  /** A driver's allocation loop, timed in ns (see native/test/test_driver.cc). */
  bench(bridge: AllocatorBridge | null, sizes: Float64Array, alignments: Float64Array, mode: 'pairs' | 'realloc' | 'malloc'): number;
  /** Calls from C++ into the bridge's JS dispatcher so far. */
  crossings(bridge: AllocatorBridge): number;
  /** Freed native blocks the JS thread keeps for its next requests. */
  cachedBlocks(bridge: AllocatorBridge): number;
  /** An asynchronous wait of `device` whose vkWaitForFences returns `result` (a lost device's path). */
  failedWait(device: Device, result: number): Promise<boolean>;
};

/** Layouts and names shared with TypeScript (native/bridge/boundary.cc; checked by lib/native/boundary.ts). */
export declare const boundary: {
  io: {
    op: number; size: number; alignment: number; scope: number; address: number; freeCount: number; errorCount: number;
    freesStart: number; freeCapacity: number; length: number;
    takenCount: number; takenStart: number; takenFields: number; takenCapacity: number;
    readyClassLimit: number; readyCapacity: number; readyStride: number;
  };
  ops: { allocate: number; reallocate: number; flush: number; internalAllocate: number; internalFree: number };
  /** Byte offsets of the trace event's fields, and its size. */
  traceEvent: {
    bytes: number; time: number; size: number; address: number; oldAddress: number; seq: number; alignment: number;
    command: number; kind: number; scope: number; flags: number; thread: number; object: number;
  };
  eventFlags: { failed: number; offThread: number; outsideCommand: number };
  eventKindCount: number;
  scopeNames: string[];
  violationNames: string[];
};
