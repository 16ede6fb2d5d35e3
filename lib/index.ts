// vkalloc: control and see the host memory Vulkan drivers allocate.
export { AlignedHeaderPolicy } from './aligned-header-policy';
export { CountingPolicy, ForwardingPolicy, LoggingPolicy } from './composed-policies';
export type { PolicyCounts, PolicyLogEntry } from './composed-policies';
export { Buffer } from './buffer';
export type { BufferOptions, MemoryRequirements } from './buffer';
export { CommandBuffer, CommandPool } from './command-pool';
export type { BufferBarrier, CommandBufferState, CommandPoolOptions, ImageBarrier, ImageCopyOptions, PipelineBarrierOptions } from './command-pool';
export { DescriptorPool, DescriptorSet, DescriptorSetLayout } from './descriptor';
export type {
  BufferDescriptor, DescriptorBinding, DescriptorPoolOptions, DescriptorSetLayoutOptions, DescriptorWrite, ImageDescriptor,
} from './descriptor';
export { Device } from './device';
export type { DeviceFeatures } from './device';
export { resolveDriver } from './driver';
export type { DriverChoice } from './driver';
export { VulkanError } from './errors';
export { Fence } from './fence';
export {
  ACCESS, BUFFER_USAGE, COMMAND_BUFFER_USAGE, COMMAND_POOL_FLAGS, DESCRIPTOR_POOL_FLAGS, DESCRIPTOR_TYPE, FORMAT, IMAGE_LAYOUT, IMAGE_USAGE,
  MEMORY_PROPERTY, MESSAGE_SEVERITY, MESSAGE_TYPE, PIPELINE_STAGE, QUEUE_CAPABILITY, SHADER_STAGE, apiVersionString, makeApiVersion,
} from './flags';
export type {
  Access, BufferUsage, CommandBufferUsage, CommandPoolFlag, DescriptorPoolFlag, DescriptorType, DeviceType, Format, ImageLayout,
  ImageTiling, ImageUsage, MemoryProperty, MessageSeverity, MessageType, PipelineStage, QueueCapability, ShaderStage,
} from './flags';
export { HostAllocator, NATIVE_POLICY } from './host-allocator';
export type { AllocatorStats, CommandStats, HostAllocatorOptions, LiveBlock, ScopeStats, Violation, ViolationKind } from './host-allocator';
export { Image, ImageView } from './image';
export type { ImageOptions } from './image';
export { createInstance, Instance, VALIDATION_LAYER } from './instance';
export type { AllocatorOptions, DriverReport, InstanceOptions, ValidationMessage, ValidationOptions } from './instance';
export { DeviceMemory } from './memory';
export { nativeChunkSource, RetainingChunkSource } from './native-chunk-source';
export { PhysicalDevice } from './physical-device';
export type { DeviceOptions, MemoryHeap, MemoryType, QueueFamily } from './physical-device';
export { ComputePipeline, PipelineCache, PipelineLayout, pipelineCacheHeader } from './pipeline';
export type { ComputePipelineOptions, PipelineCacheHeader, PipelineLayoutOptions, PushConstantRange, SpecializationValue } from './pipeline';
export { ALLOCATION_SCOPES } from './policy';
export type { AllocationScope, AllocatorPolicy, ChunkSource, InternalAllocationType, MemoryChunk } from './policy';
export { PrefixSum, prefixSumOnCpu } from './prefix-sum';
export type { PrefixSumOptions, PrefixSumResult } from './prefix-sum';
export { Queue } from './queue';
export type { SemaphoreSignal, SemaphoreWait, SubmitBatch } from './queue';
export { Semaphore } from './semaphore';
export type { SemaphoreOptions, SemaphoreType } from './semaphore';
export { parseSpirv, ShaderModule } from './shader-module';
export type { EntryPoint, SpecializationConstant, SpecializationType, SpirvInfo } from './shader-module';
export { loadShader, SHADER_NAMES } from './shaders';
export type { ShaderName } from './shaders';
export { commandTable, scopeTable, summaryLine } from './stats-table';
export { loaderStatus, instanceLayers, instanceExtensions } from './vulkan-info';
export { FailingPolicy } from './failing-policy';
export type { AllocationRequest, FailurePlan } from './failing-policy';
export { sweep } from './sweep';
export type { PointResult, SweepOptions, SweepReport } from './sweep';
export { SWEEP_TARGETS } from './sweep-targets';
export type { SweepContext, SweepFunction } from './sweep-targets';
export { loadTrace, saveTrace, Trace } from './trace';
export type { CommandSpan, StillLiveBlock, TraceEvent, TraceLeak, TraceSummary } from './trace';
export type { TraceOptions } from './trace-recorder';
export { EVENT_FLAGS, EVENT_KINDS, TRACE_FORMAT, TRACE_VERSION } from './trace-format';
export type { EventKind, TraceData, TraceObject } from './trace-format';
export { htmlReport, writeHtmlReport } from './report/html-report';
export { terminalReport } from './report/terminal-report';
