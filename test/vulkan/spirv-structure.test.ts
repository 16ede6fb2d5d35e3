// SPIR-V is checked for the structure drivers rely on before vkCreateShaderModule
// (lib/vulkan/spirv-check.ts): a module whose ids reach the header's bound crashed both
// lavapipe (SIGSEGV) and SwiftShader (SIGILL) in pipeline creation. Each crafted
// module here comes from a real shader with one thing broken, and must be refused
// naming what is wrong, without the driver being called at all.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Device } from '../../lib/vulkan/device';
import { HostAllocator } from '../../lib/allocator/host-allocator';
import { createInstance, Instance } from '../../lib/vulkan/instance';
import { parseSpirv } from '../../lib/vulkan/shader-module';
import { loadShader, SHADER_NAMES } from '../../lib/workloads/shaders';
import { MAX_ID_BOUND } from '../../lib/vulkan/spirv-check';
import { OPCODES } from '../../lib/vulkan/spirv-grammar';
import { catchError } from '../helpers/catch-error';
import { describeOnDrivers } from '../helpers/drivers';

interface Instruction { at: number; count: number; op: string }

function instructions(words: Uint32Array): Instruction[] {
  const list: Instruction[] = [];
  for (let at = 5; at < words.length; at += words[at] >>> 16) {
    list.push({ at, count: words[at] >>> 16, op: OPCODES.get(words[at] & 0xffff)![0] });
  }
  return list;
}

/** transform.spv, changed by `edit` (given the words and the instructions), as a fresh copy. */
function broken(edit: (w: number[], ins: Instruction[]) => void): Uint32Array {
  const words = loadShader('transform');
  const w = Array.from(words);
  edit(w, instructions(words));
  return Uint32Array.from(w);
}
const first = (ins: Instruction[], op: string) => ins.find((i) => i.op === op)!;
const word = (opcode: number, ...operands: number[]) => [((operands.length + 1) << 16) | opcode, ...operands];

const BOUND = loadShader('transform')[3];
type Case = [string, () => Uint32Array, string | RegExp];
const cases: Case[] = [
  ['the header bound below the ids in use', () => broken((w) => { w[3] = 10; }),
    "Expected SPIR-V whose ids are from 1 to below the header's bound (10) for code but received id 11 in OpEntryPoint at word 16"],
  ['an operand id at the bound', () => broken((w, ins) => { w[first(ins, 'Load').at + 3] = BOUND; }),
    new RegExp(`^Expected SPIR-V whose ids are from 1 to below the header's bound \\(${BOUND}\\) for code but received id ${BOUND} in OpLoad at word \\d+$`)],
  ['a result type id far above the bound', () => broken((w, ins) => { w[first(ins, 'Load').at + 1] = 0xfffffff0; }),
    /received id 4294967280 in OpLoad at word \d+$/],
  ['id 0', () => broken((w, ins) => { w[first(ins, 'Decorate').at + 1] = 0; }), /received id 0 in OpDecorate at word 121$/],
  ['a bound above the universal limit', () => broken((w) => { w[3] = MAX_ID_BOUND + 1; }),
    `Expected SPIR-V whose header id bound is from 1 to ${MAX_ID_BOUND} for code but received a bound of ${MAX_ID_BOUND + 1}`],
  ['a bound of 0', () => broken((w) => { w[3] = 0; }), /whose header id bound is from 1 to \d+ for code but received a bound of 0$/],
  ['SPIR-V 2.0', () => broken((w) => { w[1] = 0x00020000; }), 'Expected SPIR-V of version 1.0 to 1.6 for code but received version word 0x00020000'],
  ['a schema word', () => broken((w) => { w[4] = 7; }), 'Expected SPIR-V whose header schema word is 0 for code but received 7'],
  ['a result id defined twice', () => broken((w, ins) => {
    const types = ins.filter((i) => i.op === 'TypeInt' || i.op === 'TypeFloat' || i.op === 'TypeBool');
    w[types[1].at + 1] = w[types[0].at + 1];
  }), /^Expected SPIR-V whose result ids are each defined once for code but received id \d+ defined again by OpType\w+ at word \d+$/],
  ['an id used and never defined', () => broken((w, ins) => {
    w[3] = BOUND + 10;
    w[first(ins, 'Load').at + 3] = BOUND + 5;
  }), new RegExp(`^Expected SPIR-V whose ids are all defined for code but received id ${BOUND + 5} used at word \\d+ and never defined$`)],
  ['an instruction with a word past its operands', () => broken((w) => { w.push(...word(0, 0)); }),
    /^Expected SPIR-V instructions with the operands the SPIR-V grammar gives them for code but received OpNop at word \d+ with 2 words \(1 word past its operands\)$/],
  ['an instruction missing an operand', () => broken((w) => { w.push(...word(61, 6)); }),
    /received OpLoad at word \d+ with 2 words \(an operand missing\)$/],
  ['a string without its NUL', () => broken((w) => { w.push(...word(5, 4, 0x41414141)); }),
    /received OpName at word \d+ with 3 words \(a string without its terminating NUL\)$/],
  ['an OpSpecConstantOp of an operation it cannot take', () => broken((w) => { w.push(...word(52, 6, 80, 253)); }),
    /received OpSpecConstantOp at word \d+ with 4 words \(an operation OpSpecConstantOp cannot take, opcode 253\)$/],
  ['an opcode the grammar does not define', () => broken((w) => { w.push(...word(0xfffe)); }),
    /^Expected SPIR-V instructions the SPIR-V grammar defines for code but received opcode 65534 at word \d+$/],
  ['no OpEntryPoint', () => broken((w, ins) => {
    const e = first(ins, 'EntryPoint');
    w.splice(e.at, e.count);
  }), 'Expected SPIR-V with at least one OpEntryPoint for code but received none'],
  ['an OpEntryPoint naming a type', () => broken((w, ins) => { w[first(ins, 'EntryPoint').at + 2] = w[first(ins, 'TypeVoid').at + 1]; }),
    /^Expected SPIR-V whose entry points name an OpFunction for code but received OpEntryPoint at word 16 naming id \d+$/],
  ['two OpMemoryModel', () => broken((w, ins) => {
    const m = first(ins, 'MemoryModel');
    w.splice(m.at, 0, ...w.slice(m.at, m.at + m.count));
  }), 'Expected SPIR-V with one OpMemoryModel for code but received 2'],
];

describeOnDrivers('SPIR-V structure is checked before the driver sees it', ({ driver }) => {
  let instance: Instance;
  let device: Device;
  beforeAll(() => {
    instance = createInstance({ driver });
    device = instance.physicalDevices()[0].createDevice({ queues: [{ family: 0 }] });
  });
  afterAll(() => instance.destroy());

  test.each(cases)('%s', (_name, make, message) => {
    const allocator = new HostAllocator();
    const error = catchError(() => device.createShaderModule({ code: make() }, { allocator }));
    expect(error).toBeInstanceOf(RangeError);
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
    expect(allocator.stats().calls.allocate).toBe(0);  // never reached vkCreateShaderModule
  });

  test('the shipped shaders pass, and make pipelines', () => {
    for (const name of SHADER_NAMES) device.createShaderModule({ code: loadShader(name) }).destroy();
  });
});

test('single-word corruptions of real shaders are refused with a RangeError or accepted, never anything else', () => {
  let seed = 12345;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const outcomes = { refused: 0, accepted: 0 };
  for (const name of SHADER_NAMES) {
    const words = loadShader(name);
    for (let k = 0; k < 500; k++) {
      const w = Uint32Array.from(words);
      const at = 1 + (next() % (w.length - 1));
      // A random word, a small number (ids, counts), or a flipped bit.
      const kind = next() % 3;
      w[at] = kind === 0 ? next() : kind === 1 ? next() % 128 : w[at] ^ (1 << (next() % 32));
      try {
        parseSpirv(w);
        outcomes.accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
        outcomes.refused++;
      }
    }
  }
  expect(outcomes.refused).toBeGreaterThan(outcomes.accepted);
});

// A module written in SPIR-V assembly with what the compute shaders here do not use
// (a 64-bit OpSwitch, OpSpecConstantOp, loop and memory-access parameters, decorations
// and execution modes with operands, OpSource with text): what spirv-val accepts, the
// operand walk must accept too.
const spirvAs = (() => {
  try {
    execFileSync('spirv-as', ['--version'], { stdio: 'ignore' });
    execFileSync('spirv-val', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
(spirvAs ? test : test.skip)('a module spirv-val accepts, with operands of every shape, passes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-spirv-'));
  try {
    const source = path.join(__dirname, '..', 'fixtures', 'operand-shapes.spvasm');
    const binary = path.join(dir, 'm.spv');
    execFileSync('spirv-as', ['--target-env', 'vulkan1.3', '-o', binary, source]);
    execFileSync('spirv-val', ['--target-env', 'vulkan1.3', binary]);
    const info = parseSpirv(fs.readFileSync(binary));
    expect(info.entryPoints).toEqual([{ name: 'main', executionModel: 'GLCompute' }]);
    expect(info.specializationConstants).toEqual([{ id: 3, type: 'uint32' }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
