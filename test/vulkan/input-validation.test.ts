// Bad input is refused in TypeScript, before it reaches C++, with an error that
// names the parameter, what was expected and what came.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findLavapipe } from '../../lib/vulkan/driver';
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
  ['buffer usage empty', () => device.createBuffer({ size: 64, usage: [] }), RangeError, 'Expected at least one usage flag for usage but received an empty array'],
  ['buffer usage with a bit vkalloc does not know', () => device.createBuffer({ size: 64, usage: 0x80000000 }), RangeError,
    /^Expected a mask of the bits 'transfer-src' 0x1, 'transfer-dst' 0x2, .*'shader-device-address' 0x20000 for usage but received 0x80000000 \(unknown bits 0x80000000\)$/],
  ['buffer usage with known and unknown bits', () => device.createBuffer({ size: 64, usage: 0x20 | 0x40000 | 0x200 }), RangeError, /for usage but received 0x40220 \(unknown bits 0x40200\)$/],
  ['buffer usage -1', () => device.createBuffer({ size: 64, usage: -1 }), RangeError, 'Expected an integer between 0 and 4294967295 for usage but received -1'],
  ['image usage with an unknown bit', () => device.createImage({ format: 'rgba8-unorm', width: 4, height: 4, usage: 0x10 }), RangeError, /for usage but received 0x10 \(unknown bits 0x10\)$/],
  ['validation severities with an unknown bit', () => createInstance({ driver: 'lavapipe', validation: { severities: 0x2 as never } }), RangeError, /for validation.severities but received 0x2 \(unknown bits 0x2\)$/],
  ['queue capabilities with an unknown bit', () => instance.physicalDevices()[0].findQueueFamily(0x40 as never), TypeError, /capabilities\[0\]/],
  ['memory type required properties with an unknown bit', () => instance.physicalDevices()[0].findMemoryType(1, 0x100 as never), RangeError, /for required but received 0x100 \(unknown bits 0x100\)$/],
  ['memory type out of range', () => device.allocateMemory({ size: 64, memoryType: 99 }), RangeError, /Expected an integer between 0 and \d+ for memoryType but received 99/],
  ['queue family not created', () => device.queue(7), RangeError, 'Expected a queue family this device was created with (0) for family but received 7'],
  ['queue index too big', () => device.queue(0, 1), RangeError, 'Expected an integer between 0 and 0 for index but received 1'],
  ['createDevice without queues', () => instance.physicalDevices()[0].createDevice({ queues: [] }), RangeError, 'Expected a non-empty array of { family, count?, priorities? } for queues but received an empty array'],
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

test('raw masks of known bits still work (SHADER_STAGE.all is a value, not a bit)', () => {
  const allocator = new HostAllocator();
  device.createBuffer({ size: 64, usage: 0x20 | 0x2 }, { allocator }).destroy();
  expect(allocator.stats().calls.allocate).toBeGreaterThanOrEqual(0);
  const layout = device.createDescriptorSetLayout({ bindings: [{ binding: 0, type: 'storage-buffer', stages: 0x7fffffff }] });
  expect(layout.bindings[0].stages).toBe(0x7fffffff);
  layout.destroy();
});

describe('an ICD manifest given as driver is checked before the loader reads it', () => {
  // The loader says VK_ERROR_OUT_OF_HOST_MEMORY for a file that is not JSON, and
  // VK_ERROR_INCOMPATIBLE_DRIVER for one without a usable library.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-icd-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Buffer) => {
    const at = path.join(dir, name);
    fs.writeFileSync(at, content);
    return at;
  };
  const lavapipeLibrary = () => JSON.parse(fs.readFileSync(findLavapipe()!, 'utf8')).ICD.library_path as string;
  test.each([
    ['not JSON', () => file('text.json', 'driver = lavapipe\n'), 'it is not JSON'],
    ['a shared library named .json', () => file('lib.json', fs.readFileSync(lavapipeLibrary())), 'it is a shared library (ELF), not the JSON manifest that names one'],
    ['JSON without ICD', () => file('empty.json', '{"file_format_version": "1.0.0"}'), 'it has no "ICD" object'],
    ['ICD without library_path', () => file('nolib.json', '{"file_format_version": "1.0.0", "ICD": {"api_version": "1.3.0"}}'), 'it has no "ICD.library_path" string'],
    ['no file_format_version', () => file('nover.json', JSON.stringify({ ICD: { library_path: lavapipeLibrary() } })), 'it has no "file_format_version" string'],
    ['a library that does not exist', () => file('gone.json', '{"file_format_version": "1.0.0", "ICD": {"library_path": "./libgone.so"}}'),
      `its ICD.library_path names a library that does not exist: ${path.join(dir, 'libgone.so')}`],
    ['a directory', () => { fs.mkdirSync(path.join(dir, 'd.json')); return path.join(dir, 'd.json'); }, 'it is not a file'],
  ])('%s', (_name, make, what) => {
    const icd = make();
    const allocator = new HostAllocator();
    const error = catchError(() => createInstance({ driver: icd }, { allocator }));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`Expected an ICD manifest (a JSON file with ICD.library_path) for driver but received ${icd}: ${what}`);
    expect(allocator.stats().calls.allocate).toBe(0);  // the loader never ran
  });
  test('a good manifest given by path still works', () => {
    const icd = file('copy.json', JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lavapipeLibrary(), api_version: '1.1.0' } }));
    createInstance({ driver: icd }).destroy();
  });
});

test('a bad input leaves nothing half-created', () => {
  const allocator = new HostAllocator();
  expect(() => device.createBuffer({ size: -1, usage: ['storage'] }, { allocator })).toThrow(RangeError);
  expect(allocator.stats().calls.allocate).toBe(0);  // never reached the driver
});

// Instance flags: what MoltenVK needs (portability enumeration) is accepted and reaches
// vkCreateInstance with its extension; lavapipe's loader implements the extension, so
// the instance is really made with the flag here.
describe('instance flags', () => {
  test("'enumerate-portability' adds VK_KHR_portability_enumeration and creates the instance", () => {
    const instance = createInstance({ driver: findLavapipe() ? 'lavapipe' : 'auto', flags: ['enumerate-portability'] });
    try {
      expect(instance.physicalDevices().length).toBeGreaterThan(0);
    } finally {
      instance.destroy();
    }
  });

  test('unknown flags are refused before the loader sees them', () => {
    expect(() => createInstance({ flags: ['frobnicate' as 'enumerate-portability'] })).toThrow(/for flags/);
    expect(() => createInstance({ flags: 0x80 })).toThrow(/unknown bits 0x80/);
  });
});
