// Bad input is refused in TypeScript, before it reaches C++, with an error that
// names the parameter, what was expected and what came.
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance, Instance } from '../../lib/vulkan/instance';
import { Device } from '../../lib/vulkan/device';
import { catchError } from '../helpers/catch-error';

let instance: Instance;
let device: Device;
beforeAll(() => {
  instance = createInstance({ driver: 'lavapipe' });
  device = instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] });
});
afterAll(() => instance.destroy());

type Case = [string, () => unknown, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, string | RegExp];

const cases: Case[] = [
  ['policy not an object', () => new HostAllocator(42 as never), TypeError, 'Expected an allocator policy object for policy but received 42'],
  ['policy without free', () => new HostAllocator({ allocate: () => 0 } as never), TypeError, 'Expected a function for policy.free but received undefined'],
  ['policy.reallocate not a function', () => new HostAllocator({ allocate: () => 0, free: () => {}, reallocate: 1 } as never), TypeError, 'Expected a function or undefined for policy.reallocate but received 1'],
  ['unknown instance option', () => createInstance({ drivre: 'lavapipe' } as never), TypeError, 'Unknown option options.drivre'],
  ['apiVersion as an unknown string', () => createInstance({ apiVersion: '2.0' as never }), RangeError, "Expected one of '1.0', '1.1', '1.2', '1.3' for apiVersion but received \"2.0\""],
  ['layers not an array', () => createInstance({ layers: 'VK_LAYER_KHRONOS_validation' as never }), TypeError, 'Expected an array of strings for layers'],
  ['driver not a known name or .json', () => createInstance({ driver: 'nvidia' }), RangeError, /Expected 'auto', 'lavapipe', 'swiftshader' or a path to an ICD .json for driver but received "nvidia"/],
  ['driver .json that does not exist', () => createInstance({ driver: '/nonexistent/icd.json' }), Error, 'The ICD manifest given as driver does not exist: /nonexistent/icd.json'],
  ['allocator not a HostAllocator', () => createInstance({}, { allocator: {} as never }), TypeError, 'Expected a HostAllocator for createInstance options.allocator but received an object'],
  ['allocator options not an object', () => createInstance({}, 5 as never), TypeError, 'Expected an options object like { allocator } for createInstance options but received 5'],
  ['buffer size negative', () => device.createBuffer({ size: -1, usage: ['storage'] }), RangeError, 'Expected a positive integer for size but received -1'],
  ['buffer size NaN', () => device.createBuffer({ size: NaN, usage: ['storage'] }), RangeError, 'Expected a positive integer for size but received NaN'],
  ['buffer size huge', () => device.createBuffer({ size: 2 ** 60, usage: ['storage'] }), RangeError, /Expected a positive integer for size but received 1152921504606847000/],
  ['buffer size a string', () => device.createBuffer({ size: '64' as never, usage: ['storage'] }), TypeError, 'Expected a positive integer for size but received "64"'],
  ['buffer usage unknown name', () => device.createBuffer({ size: 64, usage: ['storag' as never] }), RangeError, /Expected one of 'transfer-src'.* for usage\[0\] but received "storag"/],
  ['buffer usage empty', () => device.createBuffer({ size: 64, usage: [] }), RangeError, 'Expected at least one usage flag for usage but received an array'],
  ['memory type out of range', () => device.allocateMemory({ size: 64, memoryType: 99 }), RangeError, /Expected an integer between 0 and \d+ for memoryType but received 99/],
  ['queue family not created', () => device.queue(7), RangeError, 'Expected a queue family this device was created with (0) for family but received 7'],
  ['queue index too big', () => device.queue(0, 1), RangeError, 'Expected an integer between 0 and 0 for index but received 1'],
  ['createDevice without queues', () => instance.physicalDevices()[0].createDevice({ queues: [] }), RangeError, 'Expected a non-empty array of { family, count?, priorities? } for queues but received an array'],
  ['queue priority above 1', () => instance.physicalDevices()[0].createDevice({ queues: [{ family: 0, priorities: [2] }] }), RangeError, 'Expected a number from 0 to 1 for queues[0].priorities[0] but received 2'],
  ['fence timeout negative', () => device.createFence().wait(-5), RangeError, 'Expected a non-negative number of nanoseconds for timeoutNs but received -5'],
  ['fence option wrong type', () => device.createFence({ signaled: 'yes' as never }), TypeError, 'Expected a boolean for signaled but received "yes"'],
  ['submit batches not an array', () => device.queue(0).submit({} as never), TypeError, 'Expected an array of submit batches for batches but received an object'],
  ['submit fence not a Fence', () => device.queue(0).submit([], {} as never), TypeError, 'Expected a Fence for fence but received an object'],
  ['bindMemory with a non-memory', () => device.createBuffer({ size: 64, usage: ['storage'] }).bindMemory({} as never), TypeError, 'Expected a DeviceMemory for memory but received an object'],
];

test.each(cases)('%s', (_name, act, type, message) => {
  const error = catchError(act);
  expect(error).toBeInstanceOf(type);
  if (typeof message === 'string') expect((error as Error).message).toContain(message);
  else expect((error as Error).message).toMatch(message);
});

test('a bad input leaves nothing half-created', () => {
  const allocator = new HostAllocator();
  expect(() => device.createBuffer({ size: -1, usage: ['storage'] }, { allocator })).toThrow(RangeError);
  expect(allocator.stats().calls.allocate).toBe(0);  // never reached the driver
});
