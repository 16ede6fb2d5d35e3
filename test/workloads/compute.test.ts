// Real GPU work through the binding, on every test driver, with a HostAllocator
// (the TypeScript AlignedHeaderPolicy) behind every object: results are checked
// against the same computation on the CPU, for sizes that are and are not multiples
// of the workgroup size. Nothing assumes a CPU driver: memory types are chosen by
// properties, workgroup sizes and counts come from the device's limits.
import { Device } from '../../lib/vulkan/device';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance, Instance } from '../../lib/vulkan/instance';
import { pipelineCacheHeader } from '../../lib/vulkan/pipeline';
import { PrefixSum, prefixSumOnCpu } from '../../lib/workloads/prefix-sum';
import { loadShader } from '../../lib/workloads/shaders';
import { describeOnDrivers } from '../helpers/drivers';
import { download, makeBuffer, randomWords, runOnce, upload } from '../helpers/gpu';

function firstMismatch(actual: Uint32Array, expected: Uint32Array): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} instead of ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) return `index ${i}: ${actual[i]} instead of ${expected[i]}`;
  }
  return null;
}

describeOnDrivers('compute', ({ driver }) => {
  let allocator: HostAllocator;
  let instance: Instance;
  let device: Device;
  let family: number;
  const opts = () => ({ allocator });

  beforeAll(() => {
    allocator = new HostAllocator();
    instance = createInstance({ driver }, opts());
    const pd = instance.defaultPhysicalDevice();
    family = pd.findQueueFamily('compute');
    device = pd.createDevice({ queues: [{ family }], features: { timelineSemaphore: pd.features.timelineSemaphore } }, opts());
  });
  afterAll(() => {
    instance.destroy();
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('prefix sum: the GPU result equals the CPU result for sizes within, at and across workgroup boundaries', () => {
    const job = new PrefixSum(device, { allocator });
    const w = job.workgroupSize;
    const sizes = [1, 2, w - 1, w, w + 1, 1000, w * w - 1, w * w + 1, 262_147];
    for (const size of sizes) {
      const input = randomWords(size, 1 << 16, size);
      const result = job.run(input);
      const expected = prefixSumOnCpu(input);
      expect({ size, mismatch: firstMismatch(result.output, expected) }).toEqual({ size, mismatch: null });
      expect(result.total).toBe(expected[size - 1]);
    }
    // Wrapping arithmetic: sums past 2^32 wrap as uint32 does on both sides.
    const big = randomWords(5000, 2 ** 32, 7);
    const wrapped = job.run(big);
    expect(firstMismatch(wrapped.output, prefixSumOnCpu(big))).toBeNull();
    job.destroy();
  });

  test('prefix sum with more workgroups than maxComputeWorkGroupCount[0] (laid out in 2D) and several levels', () => {
    const maxX = device.physicalDevice.limits.maxComputeWorkGroupCount[0];
    const job = new PrefixSum(device, { allocator, workgroupSize: 2 });
    // Enough slices of 2 to need a second row of workgroups, when the device's limit makes that affordable.
    const size = maxX < 1 << 20 ? 2 * maxX + 3 : 100_001;
    const input = randomWords(size, 1000, 3);
    const result = job.run(input);
    expect(firstMismatch(result.output, prefixSumOnCpu(input))).toBeNull();
    expect(result.dispatches).toBeGreaterThan(20);  // log2(size) levels, scanned and added back
    job.destroy();
  });

  test('uniform buffer (at an aligned offset), storage buffers, push constants and bool/int specialization constants', () => {
    const pd = device.physicalDevice;
    const setLayout = device.createDescriptorSetLayout({
      bindings: [{ binding: 0, type: 'uniform-buffer' }, { binding: 1, type: 'storage-buffer' }, { binding: 2, type: 'storage-buffer' }],
    }, opts());
    const layout = device.createPipelineLayout({ setLayouts: [setLayout], pushConstantRanges: [{ stages: ['compute'], size: 4 }] }, opts());
    const module = device.createShaderModule({ code: loadShader('transform') }, opts());
    expect(module.specializationConstants).toEqual([{ id: 0, type: 'uint32' }, { id: 1, type: 'bool' }, { id: 2, type: 'int32' }]);
    const workgroup = Math.min(64, pd.limits.maxComputeWorkGroupSize[0], pd.limits.maxComputeWorkGroupInvocations);
    const pipeline = device.createComputePipeline({ layout, module, specialization: { 0: workgroup, 1: true, 2: -3 } }, opts());
    module.destroy();

    const count = 10_007;
    const src = randomWords(count, 2 ** 32, 11);
    const align = pd.limits.minUniformBufferOffsetAlignment;
    const uniform = makeBuffer(device, align + 8, ['uniform'], 'host', allocator);
    const params = new Uint32Array(uniform.memory.map(0, align + 8));
    params.set([0xdeadbeef, 0xdeadbeef]);
    params.set([2654435761, 12345], align / 4);  // mul, add at offset `align`
    if (!uniform.memory.memoryType.properties.includes('host-coherent')) uniform.memory.flush();
    uniform.memory.unmap();
    const input = makeBuffer(device, count * 4, ['storage'], 'host', allocator);
    upload(input.memory, src);
    const output = makeBuffer(device, count * 4, ['storage'], 'host', allocator);

    const pool = device.createDescriptorPool({ maxSets: 1, sizes: { 'uniform-buffer': 1, 'storage-buffer': 2 } }, opts());
    const set = pool.allocateSet(setLayout);
    set.update([
      { binding: 0, buffers: [{ buffer: uniform.buffer, offset: align, range: 8 }] },
      { binding: 1, buffers: [input.buffer] },
      { binding: 2, buffers: [output.buffer] },
    ]);
    const commandPool = device.createCommandPool({ queueFamily: family }, opts());
    runOnce(device, commandPool, (cb) => {
      cb.bindPipeline(pipeline);
      cb.bindDescriptorSets(layout, [set]);
      cb.pushConstants(layout, new Uint32Array([count]));
      cb.dispatch(Math.ceil(count / workgroup));
      cb.pipelineBarrier({ srcStage: 'compute-shader', dstStage: 'host', memory: [{ srcAccess: 'shader-write', dstAccess: 'host-read' }] });
    });
    const expected = src.map((v) => (Math.imul(Math.imul(v, v), 2654435761) + 12345 - 3) >>> 0);
    expect(firstMismatch(download(output.memory, count), expected)).toBeNull();
    const objects = [commandPool, pool, output.buffer, output.memory, input.buffer, input.memory, uniform.buffer, uniform.memory, pipeline, layout, setLayout];
    for (const o of objects) o.destroy();
  });

  test('storage image: a shader writes an r32-uint image, copied back to a buffer texel for texel', () => {
    const pd = device.physicalDevice;
    const [width, height] = [70, 37];  // not multiples of the 8x8 workgroup
    const image = device.createImage({ format: 'r32-uint', width, height, usage: ['storage', 'transfer-src'] }, opts());
    const req = image.memoryRequirements;
    const memory = device.allocateMemory({ size: req.size, memoryType: pd.findMemoryType(req.memoryTypeBits, [], ['device-local']) }, opts());
    image.bindMemory(memory);
    const view = image.createView({}, opts());
    const setLayout = device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-image' }] }, opts());
    const layout = device.createPipelineLayout({ setLayouts: [setLayout], pushConstantRanges: [{ size: 12 }] }, opts());
    const module = device.createShaderModule({ code: loadShader('fill_image') }, opts());
    const pipeline = device.createComputePipeline({ layout, module, specialization: { 0: 8, 1: 8 } }, opts());
    const descriptorPool = device.createDescriptorPool({ maxSets: 1, sizes: { 'storage-image': 1 } }, opts());
    const set = descriptorPool.allocateSet(setLayout);
    set.update([{ binding: 0, images: [view] }]);
    const readback = makeBuffer(device, width * height * 4, ['transfer-dst'], 'host', allocator);
    const commandPool = device.createCommandPool({ queueFamily: family }, opts());
    const seed = 0x5a5a0000;
    runOnce(device, commandPool, (cb) => {
      cb.pipelineBarrier({ srcStage: 'top-of-pipe', dstStage: 'compute-shader', images: [{ image, oldLayout: 'undefined', newLayout: 'general', dstAccess: 'shader-write' }] });
      cb.bindPipeline(pipeline);
      cb.bindDescriptorSets(layout, [set]);
      cb.pushConstants(layout, new Uint32Array([width, height, seed]));
      cb.dispatch(Math.ceil(width / 8), Math.ceil(height / 8));
      cb.pipelineBarrier({ srcStage: 'compute-shader', dstStage: 'transfer', images: [{ image, oldLayout: 'general', newLayout: 'transfer-src', srcAccess: 'shader-write', dstAccess: 'transfer-read' }] });
      cb.copyImageToBuffer(image, readback.buffer, { layout: 'transfer-src' });
      cb.pipelineBarrier({ srcStage: 'transfer', dstStage: 'host', memory: [{ srcAccess: 'transfer-write', dstAccess: 'host-read' }] });
    });
    const texels = download(readback.memory, width * height);
    const expected = new Uint32Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) expected[y * width + x] = ((x << 16) | y) ^ seed;
    expect(firstMismatch(texels, expected)).toBeNull();
    image.destroy();  // its view goes first
    expect(view.destroyed).toBe(true);
    for (const o of [commandPool, descriptorPool, readback.buffer, readback.memory, memory, pipeline, module, layout, setLayout]) o.destroy();
  });

  test('transfer commands: fill, update and copy buffer ranges', () => {
    const work = makeBuffer(device, 256, ['transfer-src', 'transfer-dst'], 'device', allocator);
    const staging = makeBuffer(device, 64, ['transfer-dst'], 'host', allocator);
    const pool = device.createCommandPool({ queueFamily: family }, opts());
    runOnce(device, pool, (cb) => {
      cb.fillBuffer(work.buffer, 0xabcd1234);
      cb.pipelineBarrier({ srcStage: 'transfer', dstStage: 'transfer', buffers: [{ buffer: work.buffer, srcAccess: 'transfer-write', dstAccess: ['transfer-write', 'transfer-read'] }] });
      cb.updateBuffer(work.buffer, new Uint32Array([1, 2, 3, 4]), 16);
      cb.fillBuffer(work.buffer, 7, { offset: 32, size: 8 });
      cb.pipelineBarrier({ srcStage: 'transfer', dstStage: 'transfer', memory: [{ srcAccess: 'transfer-write', dstAccess: 'transfer-read' }] });
      cb.copyBuffer(work.buffer, staging.buffer, [{ srcOffset: 8, dstOffset: 0, size: 40 }]);
      cb.pipelineBarrier({ srcStage: 'transfer', dstStage: 'host', memory: [{ srcAccess: 'transfer-write', dstAccess: 'host-read' }] });
    });
    const f = 0xabcd1234;
    expect([...download(staging.memory, 10)]).toEqual([f, f, 1, 2, 3, 4, 7, 7, f, f]);
    for (const o of [pool, staging.buffer, staging.memory, work.buffer, work.memory]) o.destroy();
  });

  test('a binary semaphore orders two submits; waits that time out are results, not exceptions', () => {
    const src = makeBuffer(device, 64, ['transfer-src', 'transfer-dst'], 'device', allocator);
    const dst = makeBuffer(device, 64, ['transfer-dst'], 'host', allocator);
    const pool = device.createCommandPool({ queueFamily: family }, opts());
    const [fill, copy] = pool.allocateCommandBuffers(2);
    fill.begin();
    fill.fillBuffer(src.buffer, 42);
    fill.end();
    copy.begin();
    copy.copyBuffer(src.buffer, dst.buffer);
    copy.pipelineBarrier({ srcStage: 'transfer', dstStage: 'host', memory: [{ srcAccess: 'transfer-write', dstAccess: 'host-read' }] });
    copy.end();
    const semaphore = device.createSemaphore({}, opts());
    const fence = device.createFence({}, opts());
    expect(fence.wait(1_000_000)).toBe('timeout');
    const queue = device.queue(family);
    queue.submit([{ commandBuffers: [fill], signalSemaphores: [{ semaphore }] }]);
    queue.submit([{ commandBuffers: [copy], waitSemaphores: [{ semaphore, stage: 'transfer' }] }], fence);
    expect(fence.wait(60e9)).toBe('success');
    expect([...download(dst.memory, 16)]).toEqual(new Array(16).fill(42));
    queue.waitIdle();
    for (const o of [fence, semaphore, pool, dst.buffer, dst.memory, src.buffer, src.memory]) o.destroy();
  });

  test('a timeline semaphore: the GPU waits for a value the host signals, then signals one the host waits for', () => {
    if (!device.features.timelineSemaphore) {
      console.log(`${driver}: timeline semaphores not supported, skipped`);
      return;
    }
    const buffer = makeBuffer(device, 64, ['transfer-dst'], 'host', allocator);
    const pool = device.createCommandPool({ queueFamily: family }, opts());
    const cb = pool.allocateCommandBuffer();
    cb.begin();
    cb.fillBuffer(buffer.buffer, 9);
    cb.pipelineBarrier({ srcStage: 'transfer', dstStage: 'host', memory: [{ srcAccess: 'transfer-write', dstAccess: 'host-read' }] });
    cb.end();
    const timeline = device.createSemaphore({ type: 'timeline', initialValue: 5 }, opts());
    expect(timeline.value).toBe(5);
    device.queue(family).submit([{
      commandBuffers: [cb], waitSemaphores: [{ semaphore: timeline, value: 6, stage: 'transfer' }], signalSemaphores: [{ semaphore: timeline, value: 7 }],
    }]);
    expect(timeline.wait(7, 1_000_000)).toBe('timeout');  // the GPU is waiting for the host
    timeline.signal(6);
    expect(timeline.wait(7, 60e9)).toBe('success');
    expect(timeline.value).toBe(7);
    expect([...download(buffer.memory, 16)]).toEqual(new Array(16).fill(9));
    device.queue(family).waitIdle();
    for (const o of [timeline, pool, buffer.buffer, buffer.memory]) o.destroy();
  });

  test('pipeline cache: serialized with a header naming this device, and created again from the bytes', () => {
    const pd = device.physicalDevice;
    const cacheAllocator = new HostAllocator();
    const setLayout = device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-buffer' }, { binding: 1, type: 'storage-buffer' }] }, opts());
    const layout = device.createPipelineLayout({ setLayouts: [setLayout], pushConstantRanges: [{ size: 4 }] }, opts());
    const module = device.createShaderModule({ code: loadShader('scan') }, opts());
    const cache = device.createPipelineCache({}, { allocator: cacheAllocator });
    const pipeline = device.createComputePipeline({ layout, module, specialization: { 0: 32 }, cache }, opts());
    const data = cache.data();
    const header = pipelineCacheHeader(data);
    expect(header).toEqual({ headerSize: expect.any(Number), headerVersion: 1, vendorID: pd.vendorID, deviceID: pd.deviceID, uuid: pd.pipelineCacheUUID });
    const scopes = cacheAllocator.stats().scopes;
    console.log(`${driver}: pipeline cache of ${data.length} bytes; its allocator served ${cacheAllocator.stats().calls.allocate} ` +
      `allocations (cache scope ${scopes.cache.allocations}, object scope ${scopes.object.allocations})`);
    const again = device.createPipelineCache({ initialData: data }, { allocator: cacheAllocator });
    const pipeline2 = device.createComputePipeline({ layout, module, specialization: { 0: 32 }, cache: again }, opts());
    expect(pipelineCacheHeader(again.data())).toEqual(header);
    for (const o of [pipeline2, again, pipeline, cache, module, layout, setLayout]) o.destroy();
    expect(cacheAllocator.stats().liveCount).toBe(0);
  });
});
