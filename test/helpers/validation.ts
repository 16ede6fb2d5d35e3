// Jest setup (jest.config.js setupFilesAfterEnv): with VKALLOC_TEST_VALIDATION=1,
// every instance a test creates without a `validation` option of its own runs with
// VK_LAYER_KHRONOS_validation, and a test fails when the layer reported an error
// during it (checked after each test, and when such an instance is destroyed, which
// covers the teardown of instances made in beforeAll). Warnings are printed.
//
//   VKALLOC_TEST_VALIDATION=1 npx jest
//
// Tests that create instances with their own `validation` option (to provoke and
// check messages) are left alone.
import * as instanceModule from '../../lib/vulkan/instance';
import type { Instance, InstanceOptions, ValidationMessage } from '../../lib/vulkan/instance';

export const VALIDATING = process.env.VKALLOC_TEST_VALIDATION === '1';

function report(instance: Instance, when: string): void {
  const messages = instance.validationMessages();
  instance.clearValidationMessages();
  const errors = messages.filter((m) => m.severity === 'error');
  for (const m of messages.filter((x) => x.severity !== 'error')) console.warn(`validation ${m.severity} (${m.command ?? 'no command'}): ${m.message}`);
  if (errors.length > 0) {
    throw new Error(`The validation layer reported ${errors.length} error(s) ${when}:\n` +
      errors.map((m: ValidationMessage) => `- in ${m.command ?? 'no command'}: ${m.message}`).join('\n'));
  }
}

if (VALIDATING) {
  const watched = new Set<Instance>();
  // Every caller reaches createInstance through this module's exports object (the
  // package root re-exports it with a getter), so wrapping it there covers them all
  // without a hook in the library.
  const original = instanceModule.createInstance;
  const isPlainObject = (v: unknown): v is InstanceOptions => typeof v === 'object' && v !== null && !Array.isArray(v);
  (instanceModule as { createInstance: typeof original }).createInstance = (options, allocatorOptions) => {
    const own = isPlainObject(options) && options.validation !== undefined;
    const merged = options === undefined || (isPlainObject(options) && !own) ? { validation: true, ...options } : options;
    const instance = original(merged, allocatorOptions);
    if (!own) watch(instance);
    return instance;
  };
  const watch = (instance: Instance): void => {
    watched.add(instance);
    const destroy = instance.destroy.bind(instance);
    Object.defineProperty(instance, 'destroy', {
      configurable: true,
      value: (...args: unknown[]) => {
        const wasAlive = !instance.destroyed;
        destroy(...args);
        if (wasAlive) {
          watched.delete(instance);
          report(instance, 'while destroying an instance');
        }
      },
    });
  };
  afterEach(() => {
    for (const instance of watched) {
      if (instance.destroyed) watched.delete(instance);
      report(instance, 'during this test');
    }
  });
}
