// The objects of a compute workload, each created with an allocator of its own and
// destroyed with it: nothing is left live, and what an object holds while it lives
// was allocated by its own commands. Then their lifetimes (pools own their command
// buffers and sets, images their views; a device with work in flight waits before it
// goes) and the recording rules checked before anything reaches the driver.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Device } from '../../lib/vulkan/device';
import { commandTable } from '../../lib/report/stats-table';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance, Instance } from '../../lib/vulkan/instance';
import { loadShader } from '../../lib/workloads/shaders';
import { describeOnDrivers } from '../helpers/drivers';
import { makeBuffer } from '../helpers/gpu';

describeOnDrivers('compute objects', ({ driver }) => {
  let allocator: HostAllocator;
  let instance: Instance;
  let device: Device;
  let family: number;
  const opts = () => ({ allocator });

  beforeEach(() => {
    allocator = new HostAllocator();
    instance = createInstance({ driver }, opts());
    const pd = instance.defaultPhysicalDevice();
    family = pd.findQueueFamily('compute');
    device = pd.createDevice({ queues: [{ family }], features: { timelineSemaphore: pd.features.timelineSemaphore } }, opts());
  });
  afterEach(() => {
    instance.destroy();
    expect(allocator.stats().liveCount).toBe(0);
  });

  test('every object kind, created with an allocator of its own and destroyed, leaves nothing live in it', () => {
    const setLayout = device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-buffer' }, { binding: 1, type: 'storage-buffer' }] }, opts());
    const layout = device.createPipelineLayout({ setLayouts: [setLayout], pushConstantRanges: [{ size: 4 }] }, opts());
    const module = device.createShaderModule({ code: loadShader('scan') }, opts());
    const storage = makeBuffer(device, 1024, ['storage', 'transfer-dst'], 'device', allocator);
    const image = device.createImage({ format: 'rgba8-unorm', width: 16, height: 16, usage: ['storage'] }, opts());
    const req = image.memoryRequirements;
    const imageMemory = device.allocateMemory({ size: req.size, memoryType: device.physicalDevice.findMemoryType(req.memoryTypeBits) }, opts());
    image.bindMemory(imageMemory);

    // kind -> creates the object (and what it holds) with `own`, returns what to destroy
    const kinds: [string, (own: HostAllocator) => { destroy(): void }][] = [
      ['Semaphore (binary)', (own) => device.createSemaphore({}, { allocator: own })],
      ['Fence', (own) => device.createFence({}, { allocator: own })],
      ['ShaderModule', (own) => device.createShaderModule({ code: loadShader('transform') }, { allocator: own })],
      ['DescriptorSetLayout', (own) => device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'uniform-buffer' }] }, { allocator: own })],
      ['PipelineLayout', (own) => device.createPipelineLayout({ setLayouts: [setLayout], pushConstantRanges: [{ size: 16 }] }, { allocator: own })],
      ['PipelineCache', (own) => device.createPipelineCache({}, { allocator: own })],
      ['ComputePipeline', (own) => device.createComputePipeline({ layout, module, specialization: { 0: 16 } }, { allocator: own })],
      ['CommandPool + 3 recorded CommandBuffers', (own) => {
        const pool = device.createCommandPool({ queueFamily: family }, { allocator: own });
        for (const cb of pool.allocateCommandBuffers(3)) {
          cb.begin();
          cb.fillBuffer(storage.buffer, 1);
          cb.end();
        }
        return pool;
      }],
      ['DescriptorPool + 2 sets', (own) => {
        const pool = device.createDescriptorPool({ maxSets: 2, sizes: { 'storage-buffer': 4 } }, { allocator: own });
        for (const set of pool.allocateSets([setLayout, setLayout])) {
          set.update([{ binding: 0, buffers: [storage.buffer] }, { binding: 1, buffers: [storage.buffer] }]);
        }
        return pool;
      }],
      ['Buffer', (own) => device.createBuffer({ size: 4096, usage: ['storage'] }, { allocator: own })],
      ['DeviceMemory', (own) => device.allocateMemory({ size: 4096, memoryType: storage.memory.memoryType.index }, { allocator: own })],
      ['Image', (own) => device.createImage({ format: 'r32-uint', width: 64, height: 64, usage: ['storage', 'transfer-src'] }, { allocator: own })],
      ['ImageView', (own) => image.createView({}, { allocator: own })],
    ];
    if (device.features.timelineSemaphore) {
      kinds.push(['Semaphore (timeline)', (own) => device.createSemaphore({ type: 'timeline' }, { allocator: own })]);
    }
    const rows: string[] = [];
    let total = 0;
    for (const [kind, create] of kinds) {
      const own = new HostAllocator();
      const object = create(own);
      const live = own.stats();
      // What the object holds was allocated by its own commands (create/allocate/record), never elsewhere.
      for (const block of own.liveBlocks()) expect(`${kind}: ${block.command}`).toMatch(/: (vkCreate|vkAllocate|vkCmd|vkBeginCommandBuffer|vkEndCommandBuffer|vkUpdateDescriptorSets)/);
      object.destroy();
      const after = own.stats();
      expect({ kind, live: after.liveCount }).toEqual({ kind, live: 0 });
      total += after.calls.allocate;
      rows.push(`${kind.padEnd(40)} ${String(after.calls.allocate).padStart(6)} allocations, ${String(live.liveCount).padStart(4)} blocks / ${String(live.liveBytes).padStart(7)} bytes held while alive`);
    }
    expect(total).toBeGreaterThan(0);
    console.log(`${driver}: host allocations per object kind (each with its own allocator)\n${rows.join('\n')}`);
  });

  test('a pool owns its command buffers and sets; an image its views; reset() of a descriptor pool ends its sets', () => {
    const pool = device.createCommandPool({ queueFamily: family }, opts());
    const buffers = pool.allocateCommandBuffers(2);
    expect(buffers.map((b) => b.allocator)).toEqual([allocator, allocator]);
    pool.destroy();
    expect(buffers.map((b) => b.destroyed)).toEqual([true, true]);
    expect(() => buffers[0].begin()).toThrow('CommandBuffer is destroyed');

    const setLayout = device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-buffer' }] }, opts());
    const fixed = device.createDescriptorPool({ maxSets: 2, sizes: { 'storage-buffer': 2 } }, opts());
    const [a, b] = fixed.allocateSets([setLayout, setLayout]);
    expect(() => a.destroy()).toThrow("not created with flags ['free-descriptor-set']");
    fixed.reset();
    expect([a.destroyed, b.destroyed]).toEqual([true, true]);
    const again = fixed.allocateSets([setLayout, setLayout]);  // the room came back
    expect(again).toHaveLength(2);
    const freeable = device.createDescriptorPool({ maxSets: 1, sizes: { 'storage-buffer': 1 }, flags: ['free-descriptor-set'] }, opts());
    const one = freeable.allocateSet(setLayout);
    one.destroy();
    expect(freeable.allocateSet(setLayout).destroyed).toBe(false);  // freed one by one, the room came back too

    const image = device.createImage({ format: 'r32-uint', width: 8, height: 8, usage: ['storage'], mutableFormat: true }, opts());
    expect(() => image.createView()).toThrow('image is not bound to memory');
    const req = image.memoryRequirements;
    image.bindMemory(device.allocateMemory({ size: req.size, memoryType: device.physicalDevice.findMemoryType(req.memoryTypeBits) }, opts()));
    const views = [image.createView({}, opts()), image.createView({ format: 'r32-sfloat' }, opts())];
    image.destroy();
    expect(views.map((v) => v.destroyed)).toEqual([true, true]);
  });

  test('recording rules are checked before the driver sees anything', () => {
    const target = makeBuffer(device, 256, ['transfer-dst', 'storage'], 'device', allocator);
    const pool = device.createCommandPool({ queueFamily: family }, opts());
    const cb = pool.allocateCommandBuffer();
    const queue = device.queue(family);
    expect(cb.state).toBe('initial');
    expect(() => cb.fillBuffer(target.buffer, 0)).toThrow("CommandBuffer is not recording (state 'initial'): call begin() first");
    expect(() => queue.submit([{ commandBuffers: [cb] }])).toThrow("cannot be submitted in the 'initial' state: record it first");
    cb.begin({ usage: ['one-time-submit'] });
    expect(() => cb.begin()).toThrow('already recording');
    expect(() => cb.dispatch(1)).toThrow('No compute pipeline is bound');
    const unbound = device.createBuffer({ size: 64, usage: ['transfer-dst'] }, opts());
    expect(() => cb.fillBuffer(unbound, 0)).toThrow('buffer is not bound to memory: call bindMemory() first');
    expect(() => queue.submit([{ commandBuffers: [cb] }])).toThrow("cannot be submitted in the 'recording' state: call end() first");
    cb.fillBuffer(target.buffer, 5);
    cb.end();
    expect(cb.state).toBe('executable');
    const fence = device.createFence({}, opts());
    queue.submit([{ commandBuffers: [cb] }], fence);
    expect(fence.wait()).toBe('success');
    expect(cb.state).toBe('invalid');  // one-time-submit
    expect(() => queue.submit([{ commandBuffers: [cb] }])).toThrow('it was recorded for one submit; record it again');
    expect(() => cb.begin()).toThrow("beginning it again needs a pool created with flags ['reset-command-buffer'], or pool.reset()");
    pool.reset();
    expect(cb.state).toBe('initial');

    // Something recorded, then destroyed: the submit is refused (the GPU would touch freed memory).
    cb.begin();
    cb.fillBuffer(target.buffer, 6);
    cb.end();
    target.memory.destroy();
    expect(() => queue.submit([{ commandBuffers: [cb] }])).toThrow("A Buffer recorded in batches[0].commandBuffers[0]'s memory has been destroyed");
    target.buffer.destroy();
    expect(() => queue.submit([{ commandBuffers: [cb] }])).toThrow('uses a Buffer that has been destroyed since it was recorded: record it again');
  });

  test('a descriptor set pointing at a destroyed buffer is refused at submit', () => {
    const setLayout = device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-buffer' }, { binding: 1, type: 'storage-buffer' }] }, opts());
    const layout = device.createPipelineLayout({ setLayouts: [setLayout], pushConstantRanges: [{ size: 4 }] }, opts());
    const module = device.createShaderModule({ code: loadShader('scan_add') }, opts());
    const pipeline = device.createComputePipeline({ layout, module, specialization: { 0: 8 } }, opts());
    const a = makeBuffer(device, 64, ['storage'], 'device', allocator);
    const b = makeBuffer(device, 64, ['storage'], 'device', allocator);
    const set = device.createDescriptorPool({ maxSets: 1, sizes: { 'storage-buffer': 2 } }, opts()).allocateSet(setLayout);
    set.update([{ binding: 0, buffers: [a.buffer] }, { binding: 1, buffers: [b.buffer] }]);
    const cb = device.createCommandPool({ queueFamily: family }, opts()).allocateCommandBuffer();
    cb.begin();
    cb.bindPipeline(pipeline);
    cb.bindDescriptorSets(layout, [set]);
    cb.pushConstants(layout, new Uint32Array([16]));
    cb.dispatch(2);
    cb.end();
    b.buffer.destroy();
    expect(() => device.queue(family).submit([{ commandBuffers: [cb] }])).toThrow('A Buffer a DescriptorSet in batches[0].commandBuffers[0] points at is destroyed');
  });

  test('destroying a device with work in flight waits for it first (vkDeviceWaitIdle), then destroys', () => {
    const target = makeBuffer(device, 1 << 20, ['transfer-dst'], 'device', allocator);
    const pool = device.createCommandPool({ queueFamily: family }, opts());
    const cb = pool.allocateCommandBuffer();
    cb.begin();
    for (let i = 0; i < 50; i++) cb.fillBuffer(target.buffer, i);
    cb.end();
    device.queue(family).submit([{ commandBuffers: [cb] }]);
    device.destroy();
    expect([cb.destroyed, pool.destroyed, target.buffer.destroyed]).toEqual([true, true, true]);
    const commands = allocator.stats().commands.map((c) => c.command);
    if (commands.includes('vkDeviceWaitIdle')) expect(commands.indexOf('vkDeviceWaitIdle')).toBeLessThan(commands.indexOf('vkDestroyDevice'));
    console.log(`${driver}: per-command host allocations of a recorded and submitted command buffer, then device teardown\n${commandTable(allocator.stats())}`);
  });

  test('a process that exits with GPU work in flight waits for it before its objects are destroyed', () => {
    const dist = path.join(__dirname, '..', '..', 'dist', 'index.js');
    const script = `
      const v = require(${JSON.stringify(dist)});
      const allocator = new v.HostAllocator();
      const instance = v.createInstance({ driver: ${JSON.stringify(driver)} }, { allocator });
      const pd = instance.defaultPhysicalDevice();
      const family = pd.findQueueFamily('compute');
      const device = pd.createDevice({ queues: [{ family }] }, { allocator });
      const buffer = device.createBuffer({ size: 16 << 20, usage: ['transfer-dst'] }, { allocator });
      const req = buffer.memoryRequirements;
      buffer.bindMemory(device.allocateMemory({ size: req.size, memoryType: pd.findMemoryType(req.memoryTypeBits, [], ['device-local']) }, { allocator }));
      const cb = device.createCommandPool({ queueFamily: family }, { allocator }).allocateCommandBuffer();
      cb.begin();
      for (let i = 0; i < 100; i++) cb.fillBuffer(buffer, i);
      cb.end();
      device.queue(family).submit([{ commandBuffers: [cb] }]);
      // exits now: the teardown (no JS) must wait for the fills before freeing the memory and command buffer
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  });
});
