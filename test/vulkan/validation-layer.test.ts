// createInstance({ validation: true }): VK_LAYER_KHRONOS_validation with a debug
// utils messenger made with the instance's allocator. A representative compute
// workload runs clean (no message at all), and a deliberate misuse (a dispatch with
// its descriptor set never bound) produces a message that reaches JS: in the
// collected list right away, and through onMessage once the command has returned.
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance, instanceLayers, ValidationMessage } from '../../lib/index';
import { PrefixSum, prefixSumOnCpu } from '../../lib/workloads/prefix-sum';
import { loadShader } from '../../lib/workloads/shaders';
import { describeOnDrivers } from '../helpers/drivers';
import { VALIDATING } from '../helpers/validation';
import { createInstance as createInstanceFromModule } from '../../lib/vulkan/instance';
import { randomWords } from '../helpers/gpu';

const hasLayer = instanceLayers().some((l) => l.name === 'VK_LAYER_KHRONOS_validation');
const testIfLayer = hasLayer ? test : test.skip;
if (!hasLayer) console.log('VK_LAYER_KHRONOS_validation is not installed (apt-get install vulkan-validationlayers): validation tests skipped');

describeOnDrivers('validation layer', ({ driver }) => {
  testIfLayer('a compute workload runs clean: not one warning or error, and the messenger lives in the instance\'s allocator', () => {
    const allocator = new HostAllocator();
    const instance = createInstance({ driver, validation: { severities: ['warning', 'error'] } }, { allocator });
    expect(instance.validation).toEqual({ severities: ['warning', 'error'], types: ['general', 'validation', 'performance'] });
    const pd = instance.defaultPhysicalDevice();
    const family = pd.findQueueFamily('compute');
    const device = pd.createDevice({ queues: [{ family }] }, { allocator });
    const job = new PrefixSum(device, { allocator });
    for (const size of [1, 1000, 70_001]) {
      const input = randomWords(size, 1 << 16, size);
      expect(job.run(input).output).toEqual(prefixSumOnCpu(input));
    }
    job.destroy();
    const commands = allocator.stats().commands.map((c) => c.command);
    instance.destroy();
    expect(instance.validationMessages()).toEqual([]);
    // The messenger was made (and destroyed, before the instance) with the instance's allocator.
    const after = allocator.stats().commands.map((c) => c.command);
    if (commands.includes('vkCreateDebugUtilsMessengerEXT')) {
      expect(after.indexOf('vkDestroyDebugUtilsMessengerEXT')).toBeLessThan(after.indexOf('vkDestroyInstance'));
    }
    expect(allocator.stats().liveCount).toBe(0);
  });

  testIfLayer('a dispatch without its descriptor set bound: the layer\'s error reaches JS, named and attributed to vkCmdDispatch', async () => {
    const allocator = new HostAllocator();
    const delivered: ValidationMessage[] = [];
    const instance = createInstance({ driver, validation: { onMessage: (m) => delivered.push(m) } }, { allocator });
    const pd = instance.defaultPhysicalDevice();
    const family = pd.findQueueFamily('compute');
    const device = pd.createDevice({ queues: [{ family }] }, { allocator });
    const setLayout = device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-buffer' }, { binding: 1, type: 'storage-buffer' }] }, { allocator });
    const layout = device.createPipelineLayout({ setLayouts: [setLayout], pushConstantRanges: [{ size: 4 }] }, { allocator });
    const module = device.createShaderModule({ code: loadShader('scan') }, { allocator });
    const pipeline = device.createComputePipeline({ layout, module, specialization: { 0: 32 } }, { allocator });
    const cb = device.createCommandPool({ queueFamily: family }, { allocator }).allocateCommandBuffer();
    cb.begin();
    cb.bindPipeline(pipeline);
    cb.pushConstants(layout, new Uint32Array([64]));
    expect(instance.validationMessages()).toEqual([]);
    cb.dispatch(2);  // set 0 is statically used but was never bound: recorded, never submitted
    cb.end();

    // Collected synchronously, on the JS thread, after vkCmdDispatch returned.
    const messages = instance.validationMessages();
    expect(messages).toEqual([expect.objectContaining({
      severity: 'error', types: ['validation'], id: 'VUID-vkCmdDispatch-None-02697', command: 'vkCmdDispatch',
      message: expect.stringContaining('descriptor set'),
    })]);
    console.log(`${driver}: ${messages[0].id}: ${messages[0].message.slice(0, 300)}…`);
    // onMessage was told too: from inside validationMessages() here, never from inside the Vulkan call.
    expect(delivered).toEqual(messages);
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toHaveLength(1);  // each message once

    // A later message reaches onMessage from the event loop without anyone asking.
    instance.clearValidationMessages();
    cb.destroy();
    const cb2 = device.createCommandPool({ queueFamily: family }, { allocator }).allocateCommandBuffer();
    cb2.begin();
    cb2.bindPipeline(pipeline);
    cb2.pushConstants(layout, new Uint32Array([64]));
    cb2.dispatch(1);
    expect(delivered).toHaveLength(1);  // not from inside the command
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered.map((m) => m.id)).toEqual(['VUID-vkCmdDispatch-None-02697', 'VUID-vkCmdDispatch-None-02697']);
    instance.destroy();
    expect(allocator.stats().liveCount).toBe(0);
  });
});

// The suite's second run (VKALLOC_TEST_VALIDATION=1, test/helpers/validation.ts) puts
// every instance made without its own `validation` option under the layer: make sure
// it really does, through the package root as through the module itself.
(VALIDATING ? describe : describe.skip)('the validation-layer test run', () => {
  test('instances made without their own option run under the layer', () => {
    for (const make of [createInstance, createInstanceFromModule]) {
      const instance = make({ driver: 'lavapipe' });
      try {
        expect(instance.validation).not.toBeNull();
      } finally {
        instance.destroy();
      }
    }
  });

  test('an instance with its own option keeps it', () => {
    const instance = createInstance({ driver: 'lavapipe', validation: false });
    try {
      expect(instance.validation).toBeNull();
    } finally {
      instance.destroy();
    }
  });
});
