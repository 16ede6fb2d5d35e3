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
import type { Instance, ValidationMessage } from '../../lib/vulkan/instance';
import { instanceHooks } from '../../lib/vulkan/instance-hooks';  // no side effects: loads nothing else

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
  instanceHooks.defaults = { validation: true };
  instanceHooks.created = (instance, given) => {
    if (given?.validation !== undefined) return;
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
