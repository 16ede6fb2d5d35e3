// @internal For tests (test/helpers/validation.ts): options merged under every
// createInstance() call's own, and a hook told of each instance created with the
// options its caller gave. A module of its own, without imports, so that a test set-up
// can reach it without loading the rest of the library.
import type { Instance, InstanceOptions } from './instance';

export const instanceHooks: {
  defaults: Partial<InstanceOptions> | null;
  created: ((instance: Instance, given: InstanceOptions) => void) | null;
} = { defaults: null, created: null };
