// Bad input to the compute API is refused in TypeScript, before it reaches C++ (and
// before a driver could crash on it), naming the parameter, what was expected and
// what came: TypeError for a wrong type, RangeError for a wrong value.
import { Buffer as VkBuffer } from '../../lib/vulkan/buffer';
import { CommandBuffer } from '../../lib/vulkan/command-buffer';
import { DescriptorSetLayout } from '../../lib/vulkan/descriptor';
import { Device } from '../../lib/vulkan/device';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance, Instance } from '../../lib/vulkan/instance';
import { PipelineLayout } from '../../lib/vulkan/pipeline';
import { ShaderModule } from '../../lib/vulkan/shader-module';
import { loadShader } from '../../lib/workloads/shaders';
import { catchError } from '../helpers/catch-error';
import { makeBuffer } from '../helpers/gpu';

let instance: Instance;
let device: Device;
let setLayout: DescriptorSetLayout;
let layout: PipelineLayout;
let scanModule: ShaderModule;
let storage: VkBuffer;
let cb: CommandBuffer;
beforeAll(() => {
  instance = createInstance({ driver: 'lavapipe' });
  const pd = instance.physicalDevices()[0];
  device = pd.createDevice({ queues: [{ family: 0 }] });
  setLayout = device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-buffer' }, { binding: 1, type: 'storage-buffer' }] });
  layout = device.createPipelineLayout({ setLayouts: [setLayout], pushConstantRanges: [{ size: 4 }] });
  scanModule = device.createShaderModule({ code: loadShader('scan') });
  storage = makeBuffer(device, 1024, ['storage', 'transfer-dst'], 'device').buffer;
  cb = device.createCommandPool({ queueFamily: 0 }).allocateCommandBuffer();
  cb.begin();
});
afterAll(() => instance.destroy());

const words = (...w: number[]) => new Uint32Array(w);
const spirvHeader = [0x07230203, 0x00010000, 0, 10, 0];
const limits = () => device.physicalDevice.limits;

type Case = [string, () => unknown, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, string | RegExp];

const cases: Case[] = [
  ['SPIR-V as a string', () => device.createShaderModule({ code: 'void main() {}' as never }), TypeError, 'Expected SPIR-V as a Uint32Array or a Buffer/Uint8Array for code but received "void main() {}"'],
  ['SPIR-V as a plain array', () => device.createShaderModule({ code: [0x07230203] as never }), TypeError, 'Expected SPIR-V as a Uint32Array or a Buffer/Uint8Array for code but received an array of 1'],
  ['SPIR-V bytes not whole words', () => device.createShaderModule({ code: Buffer.alloc(10) }), RangeError, 'Expected SPIR-V (a whole number of 32-bit words) for code but received 10 bytes'],
  ['SPIR-V shorter than its header', () => device.createShaderModule({ code: words(0x07230203, 0x10000, 0) }), RangeError, 'Expected SPIR-V (at least the 5-word header) for code but received 3 words'],
  ['an ELF file instead of SPIR-V', () => device.createShaderModule({ code: Buffer.from('\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', 'latin1') }), RangeError, 'Expected SPIR-V (magic number 0x07230203) for code but received data starting with 0x464c457f'],
  ['GLSL source as bytes', () => device.createShaderModule({ code: Buffer.from('#version 450\nvoid main() { }\n\n\n\n') }), RangeError, /Expected SPIR-V \(magic number 0x07230203\) for code but received data starting with 0x/],
  ['SPIR-V byte-swapped', () => device.createShaderModule({ code: words(0x03022307, 0, 0, 0, 0) }), RangeError, "Expected SPIR-V in this machine's byte order for code but received SPIR-V with its words byte-swapped"],
  ['SPIR-V with an instruction of length 0', () => device.createShaderModule({ code: words(...spirvHeader, 0x00000011) }), RangeError, 'Expected SPIR-V whose instructions fit in it for code but received an instruction at word 5 with a length of 0'],
  ['SPIR-V cut short', () => device.createShaderModule({ code: loadShader('scan').subarray(0, 40) }), RangeError, /past the end \(40 words\)/],
  ['entry point not in the module', () => device.createComputePipeline({ layout, module: scanModule, entryPoint: 'mian' }), RangeError, 'Expected a compute entry point of the module for entryPoint but received "mian" (the module has \'main\' (GLCompute))'],
  ['specialization of an id the shader does not declare', () => device.createComputePipeline({ layout, module: scanModule, specialization: { 7: 1 } }), RangeError, 'Expected a constant_id the shader declares (0) for specialization but received "7"'],
  ['specialization value of the wrong type', () => device.createComputePipeline({ layout, module: scanModule, specialization: { 0: true } }), TypeError, 'Expected a number (the constant is uint32) for specialization[0] but received true'],
  ['specialization value out of range', () => device.createComputePipeline({ layout, module: scanModule, specialization: { 0: -1 } }), RangeError, 'Expected an integer between 0 and 4294967295 (the constant is uint32) for specialization[0] but received -1'],
  ['pipeline layout not a PipelineLayout', () => device.createComputePipeline({ layout: setLayout as never, module: scanModule }), TypeError, 'Expected a PipelineLayout for layout but received an instance of DescriptorSetLayout'],
  ['push-constant size not a multiple of 4', () => device.createPipelineLayout({ pushConstantRanges: [{ size: 6 }] }), RangeError, 'Expected a multiple of 4 for pushConstantRanges[0].size but received 6'],
  ['push constants past maxPushConstantsSize', () => device.createPipelineLayout({ pushConstantRanges: [{ offset: 4, size: limits().maxPushConstantsSize }] }), RangeError, /Expected an integer between 4 and \d+ for pushConstantRanges\[0\]\.size/],
  ['two push-constant ranges for one stage', () => device.createPipelineLayout({ pushConstantRanges: [{ size: 4 }, { offset: 4, size: 4 }] }), RangeError, 'name the same shader stage'],
  ['descriptor type unknown', () => device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'sampler' as never }] }), RangeError, /Expected one of 'storage-image', .* for bindings\[0\]\.type but received "sampler"/],
  ['descriptor binding twice', () => device.createDescriptorSetLayout({ bindings: [{ binding: 1, type: 'storage-buffer' }, { binding: 1, type: 'uniform-buffer' }] }), RangeError, 'bindings[1].binding 1 is listed twice'],
  ['descriptor pool without sizes', () => device.createDescriptorPool({ maxSets: 1, sizes: {} }), RangeError, 'Expected at least one descriptor type and count for sizes but received an object'],
  ['descriptor pool size unknown type', () => device.createDescriptorPool({ maxSets: 1, sizes: { storage: 1 } as never }), TypeError, 'Unknown option sizes.storage'],
  ['command pool of a family the device lacks', () => device.createCommandPool({ queueFamily: 3 }), RangeError, 'Expected a queue family this device was created with (0) for queueFamily but received 3'],
  ['command pool flag unknown', () => device.createCommandPool({ queueFamily: 0, flags: ['resettable' as never] }), RangeError, /Expected one of 'transient', 'reset-command-buffer' for flags\[0\] but received "resettable"/],
  ['binary semaphore with an initial value', () => device.createSemaphore({ initialValue: 3 }), TypeError, "initialValue is for timeline semaphores: pass type: 'timeline'"],
  ['timeline semaphore on a device without the feature', () => device.createSemaphore({ type: 'timeline' }), Error, 'Timeline semaphores are not enabled on this Device: create it with features: { timelineSemaphore: true }'],
  ['image format unknown', () => device.createImage({ format: 'rgb8' as never, width: 4, height: 4, usage: ['storage'] }), RangeError, /Expected one of 'r8-unorm', .* for format but received "rgb8"/],
  ['image of width 0', () => device.createImage({ format: 'r32-uint', width: 0, height: 4, usage: ['storage'] }), RangeError, /Expected an integer between 1 and \d+ for width but received 0/],
  ['image view of another format, image not mutable', () => {
    const image = device.createImage({ format: 'r32-uint', width: 4, height: 4, usage: ['storage'] });
    const req = image.memoryRequirements;
    image.bindMemory(device.allocateMemory({ size: req.size, memoryType: device.physicalDevice.findMemoryType(req.memoryTypeBits) }));
    return image.createView({ format: 'r32-sfloat' });
  }, RangeError, "A view of a 'r32-uint' image has its format unless the image was created with mutableFormat: true; received 'r32-sfloat'"],
  ['pipeline cache from bytes that are not a cache', () => device.createPipelineCache({ initialData: Buffer.from('not a pipeline cache, just some bytes') }), RangeError, 'Expected pipeline cache data (a VK_PIPELINE_CACHE_HEADER_VERSION_ONE header first) for initialData but received 37 bytes without one'],
  ['dispatch past maxComputeWorkGroupCount', () => cb.dispatch(limits().maxComputeWorkGroupCount[0] + 1), RangeError, /Expected an integer between 0 and \d+ for x but received/],
  ['barrier stage mask with an unknown bit', () => cb.pipelineBarrier({ srcStage: 0x800 | 0x80 as never, dstStage: 'transfer' }), RangeError, /for srcStage but received 0x880 \(unknown bits 0x80\)$/],
  ['barrier access mask with an unknown bit', () => cb.pipelineBarrier({ srcStage: 'compute-shader', dstStage: 'transfer', memory: [{ srcAccess: 0x100000 as never, dstAccess: 'transfer-read' }] }), RangeError, /for memory\[0\]\.srcAccess but received 0x100000 \(unknown bits 0x100000\)$/],
  ['descriptor binding stages with an unknown bit', () => device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-buffer', stages: 0x40000000 as never }] }), RangeError, /for bindings\[0\]\.stages but received 0x40000000 \(unknown bits 0x40000000\)$/],
  ['command pool flags with an unknown bit', () => device.createCommandPool({ queueFamily: 0, flags: 0x4 as never }), RangeError, /for flags but received 0x4 \(unknown bits 0x4\)$/],
  ['command buffer usage with an unknown bit', () => device.createCommandPool({ queueFamily: 0 }).allocateCommandBuffer().begin({ usage: 0x2 as never }), RangeError, /for usage but received 0x2 \(unknown bits 0x2\)$/],
  ['descriptor pool flags with an unknown bit', () => device.createDescriptorPool({ maxSets: 1, sizes: { 'storage-buffer': 1 }, flags: 0x2 as never }), RangeError, /for flags but received 0x2 \(unknown bits 0x2\)$/],
  ['barrier stage unknown', () => cb.pipelineBarrier({ srcStage: 'compute' as never, dstStage: 'transfer' }), RangeError, /Expected one of 'top-of-pipe', .* for srcStage\[0\] but received "compute"/],
  ['fill with a misaligned offset', () => cb.fillBuffer(storage, 0, { offset: 2 }), RangeError, 'Expected a multiple of 4 for offset but received 2'],
  ['update with too much data', () => cb.updateBuffer(storage, new Uint8Array(65540)), RangeError, 'Expected from 4 to 65536 bytes, a multiple of 4, for data but received 65540 bytes'],
  ['push constants outside the layout\'s ranges', () => cb.pushConstants(layout, new Uint32Array(2)), RangeError, 'Push constants [0, 8) are not all in the layout\'s push-constant ranges for these stages (ranges: [0, 4))'],
  ['descriptor sets that do not fit the layout', () => cb.bindDescriptorSets(layout, []), RangeError, 'Expected a non-empty array of DescriptorSets for sets but received an empty array'],
  ['submit of a command buffer still recording', () => device.queue(0).submit([{ commandBuffers: [cb] }]), Error, "batches[0].commandBuffers[0] cannot be submitted in the 'recording' state: call end() first"],
  ['submit batch with an unknown key', () => device.queue(0).submit([{ commandbuffers: [] } as never]), TypeError, 'Unknown option batches[0].commandbuffers'],
  ['binary semaphore given a value', () => device.queue(0).submit([{ signalSemaphores: [{ semaphore: device.createSemaphore(), value: 1 }] }]), TypeError, 'batches[0].signalSemaphores[0]: a binary semaphore takes no value'],
  ['validation option of the wrong type', () => createInstance({ driver: 'lavapipe', validation: 'on' as never }), TypeError, 'Expected a boolean or { severities?, types?, onMessage? } for validation but received "on"'],
  ['validation severity unknown', () => createInstance({ driver: 'lavapipe', validation: { severities: ['fatal' as never] } }), RangeError, /Expected one of 'verbose', 'info', 'warning', 'error' for validation\.severities\[0\] but received "fatal"/],
  ['timeline feature unknown', () => device.physicalDevice.createDevice({ queues: [{ family: 0 }], features: { rayTracing: true } as never }), TypeError, 'Unknown option features.rayTracing'],
];

test.each(cases)('%s', (_name, act, type, message) => {
  const error = catchError(act);
  expect(error).toBeInstanceOf(type);
  if (typeof message === 'string') expect((error as Error).message).toContain(message);
  else expect((error as Error).message).toMatch(message);
});

test('descriptor writes are checked against the layout, the buffer usage and the device\'s offset alignment', () => {
  const pool = device.createDescriptorPool({ maxSets: 1, sizes: { 'storage-buffer': 2 } });
  const set = pool.allocateSet(setLayout);
  expect(() => set.update([{ binding: 5, buffers: [storage] }])).toThrow('Expected a binding of this set\'s layout (0, 1) for writes[0].binding but received 5');
  const uniformOnly = makeBuffer(device, 256, ['uniform'], 'device').buffer;
  expect(() => set.update([{ binding: 0, buffers: [uniformOnly] }])).toThrow("writes[0].buffers[0].buffer was not created with usage 'storage'");
  const align = limits().minStorageBufferOffsetAlignment;
  if (align > 4) {
    expect(() => set.update([{ binding: 0, buffers: [{ buffer: storage, offset: align / 2 }] }]))
      .toThrow(`Expected a multiple of ${align} (this device's minStorageBufferOffsetAlignment) for writes[0].buffers[0].offset`);
  }
  expect(() => set.update([{ binding: 0, images: [] }])).toThrow("binding 0 is a 'storage-buffer' binding: give buffers, not images");
});

test('bad SPIR-V never reaches the driver: no allocation happens', () => {
  const allocator = new HostAllocator();
  expect(() => device.createShaderModule({ code: Buffer.from('hello world!') }, { allocator })).toThrow(RangeError);
  expect(allocator.stats().calls.allocate).toBe(0);
});
