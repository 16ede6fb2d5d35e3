// vkalloc: control and see the host memory Vulkan drivers allocate. The library:
// allocator and policies, Vulkan objects, tracing, fault injection. Reports and
// sample workloads are subpath exports (vkalloc/report, vkalloc/workloads).
export { AlignedHeaderPolicy } from './allocator/aligned-header-policy';
export { CountingPolicy, ForwardingPolicy, LoggingPolicy } from './allocator/composed-policies';
export type { PolicyCounts, PolicyLogEntry } from './allocator/composed-policies';
export { Buffer } from './vulkan/buffer';
export type { BufferOptions, MemoryRequirements } from './vulkan/buffer';
export { CommandBuffer } from './vulkan/command-buffer';
export type { BufferBarrier, CommandBufferState, ImageBarrier, ImageCopyOptions, PipelineBarrierOptions } from './vulkan/command-buffer';
export { CommandPool } from './vulkan/command-pool';
export type { CommandPoolOptions } from './vulkan/command-pool';
export { DescriptorPool, DescriptorSet, DescriptorSetLayout } from './vulkan/descriptor';
export type {
  BufferDescriptor, DescriptorBinding, DescriptorPoolOptions, DescriptorSetLayoutOptions, DescriptorWrite, ImageDescriptor,
} from './vulkan/descriptor';
export { Device } from './vulkan/device';
export type { DeviceFeatures } from './vulkan/device';
export { resolveDriver } from './vulkan/driver';
export type { DriverChoice } from './vulkan/driver';
export { VulkanError } from './native/errors';
export { Fence } from './vulkan/fence';
export {
  ACCESS, BUFFER_USAGE, COMMAND_BUFFER_USAGE, COMMAND_POOL_FLAGS, DESCRIPTOR_POOL_FLAGS, DESCRIPTOR_TYPE, FORMAT, IMAGE_LAYOUT, IMAGE_USAGE,
  INSTANCE_FLAGS, MEMORY_PROPERTY, MESSAGE_SEVERITY, MESSAGE_TYPE, PIPELINE_STAGE, QUEUE_CAPABILITY, SHADER_STAGE, apiVersionString, makeApiVersion,
} from './util/flags';
export type {
  Access, BufferUsage, CommandBufferUsage, CommandPoolFlag, DescriptorPoolFlag, DescriptorType, DeviceType, Format, ImageLayout,
  ImageTiling, ImageUsage, InstanceFlag, MemoryProperty, MessageSeverity, MessageType, PipelineStage, QueueCapability, ShaderStage,
} from './util/flags';
export { HostAllocator, NATIVE_POLICY } from './allocator/host-allocator';
export type { AllocatorStats, CommandStats, HostAllocatorOptions, LiveBlock, ScopeStats, Violation, ViolationKind } from './allocator/host-allocator';
export { Image, ImageView } from './vulkan/image';
export type { ImageOptions } from './vulkan/image';
export { createInstance, Instance, VALIDATION_LAYER } from './vulkan/instance';
export type { AllocatorOptions, DriverReport, InstanceOptions, ValidationMessage, ValidationOptions } from './vulkan/instance';
export { DeviceMemory } from './vulkan/memory';
export { nativeChunkSource, RetainingChunkSource } from './allocator/native-chunk-source';
export { PhysicalDevice } from './vulkan/physical-device';
export type { DeviceOptions, MemoryHeap, MemoryType, QueueFamily } from './vulkan/physical-device';
export { ComputePipeline, PipelineCache, PipelineLayout, pipelineCacheHeader } from './vulkan/pipeline';
export type { ComputePipelineOptions, PipelineCacheHeader, PipelineLayoutOptions, PushConstantRange, SpecializationValue } from './vulkan/pipeline';
export { ALLOCATION_SCOPES } from './allocator/policy';
export type { AllocationScope, AllocatorPolicy, ChunkSource, InternalAllocationType, MemoryChunk, ReadyClasses } from './allocator/policy';
export { Queue } from './vulkan/queue';
export type { SemaphoreSignal, SemaphoreWait, SubmitBatch } from './vulkan/queue';
export { Semaphore } from './vulkan/semaphore';
export type { SemaphoreOptions, SemaphoreType } from './vulkan/semaphore';
export { parseSpirv, ShaderModule } from './vulkan/shader-module';
export type { EntryPoint, SpecializationConstant, SpecializationType, SpirvInfo } from './vulkan/shader-module';
export { loaderStatus, instanceLayers, instanceExtensions } from './vulkan/vulkan-info';
export { FailingPolicy } from './fault/failing-policy';
export type { AllocationRequest, FailurePlan } from './fault/failing-policy';
export { sweep } from './fault/sweep';
export type { PointResult, SweepOptions, SweepReport } from './fault/sweep';
export type { SweepContext, SweepFunction } from './fault/sweep-targets';
export { attach, attachedAllocators, detach } from './layer/attach';
export type { AttachedAllocator } from './layer/attach';
export { loadTrace, saveTrace, Trace } from './trace/trace';
export type { CommandSpan, StillLiveBlock, TraceEvent, TraceLeak, TraceSummary } from './trace/trace';
export type { TraceOptions } from './trace/recorder';
export { EVENT_FLAGS, EVENT_KINDS, TRACE_FORMAT, TRACE_VERSION } from './trace/format';
export type { EventKind, TraceData, TraceObject } from './trace/format';

// Types (and tables) that the API above names in its signatures.
export type { AlignedHeaderPolicyOptions, AlignedHeaderPolicyStats } from './allocator/aligned-header-policy';
export type { ChunkHeap, ChunkHeapStats, HeapChunk } from './allocator/chunk-heap';
export type { CallCounts, CommandSummary, LeakRule, LiveSeries, ObjectSummary, ScopeSummary, TraceBlock } from './trace/trace';
export type { ChromeTrace, ChromeTraceEvent } from './trace/chrome';
export { DEVICE_TYPES, IMAGE_TILING } from './util/flags';
export type { DriverSelection } from './vulkan/driver';
export type {
  LoaderStatus, NativeAllocatorStats, NativeCallCounts, NativeCommandStats, NativeLimits, NativeLiveBlock, NativeScopeStats, NativeValidationMessage,
} from './native/contract';
export { SCOPE_NAMES, VIOLATION_NAMES } from './native/boundary';
export type { ScopeName } from './native/boundary';
export type { NativeResource, VulkanObject } from './vulkan/resource';
export type { ResolvedBinding } from './vulkan/descriptor';
export type { ResolvedRange } from './vulkan/pipeline';

// Moved to subpath exports; kept here for one release. Import them from
// 'vkalloc/report' and 'vkalloc/workloads' instead (docs/api.md, "Deprecated names").
export {
  /** @deprecated import from 'vkalloc/report' */ commandTable,
  /** @deprecated import from 'vkalloc/report' */ scopeTable,
  /** @deprecated import from 'vkalloc/report' */ summaryLine,
  /** @deprecated import from 'vkalloc/report' */ htmlReport,
  /** @deprecated import from 'vkalloc/report' */ writeHtmlReport,
  /** @deprecated import from 'vkalloc/report' */ terminalReport,
} from './report';
export {
  /** @deprecated import from 'vkalloc/workloads' */ PrefixSum,
  /** @deprecated import from 'vkalloc/workloads' */ prefixSumOnCpu,
  /** @deprecated import from 'vkalloc/workloads' */ loadShader,
  /** @deprecated import from 'vkalloc/workloads' */ SHADER_NAMES,
} from './workloads';
export type { PrefixSumOptions, PrefixSumResult, ShaderName } from './workloads';
/** @deprecated the built-in sweep targets are named by string in sweep() */
export { SWEEP_TARGETS } from './fault/sweep-targets';
