// ShaderModule: SPIR-V checked in TypeScript before any driver sees it (a driver
// handed arbitrary bytes may crash: lib/vulkan/spirv-check.ts has the rules), with what the
// module declares: its entry points and its specialization constants (whose declared
// types decide their encoding).
import { Native } from '../native/binding';
import type { Device } from './device';
import type { HostAllocator } from '../allocator/host-allocator';
import { checkConstruct, VulkanObject } from './resource';
import { checkSpirvStructure } from './spirv-check';
import * as is from '../util/is';

const SPIRV_MAGIC = 0x07230203;
const SWAPPED_MAGIC = 0x03022307;
const OP_ENTRY_POINT = 15;
const OP_DECORATE = 71;
const OP_TYPE_BOOL = 20;
const OP_TYPE_INT = 21;
const OP_TYPE_FLOAT = 22;
const OP_SPEC_CONSTANT_TRUE = 48;
const OP_SPEC_CONSTANT_FALSE = 49;
const OP_SPEC_CONSTANT = 50;
const DECORATION_SPEC_ID = 1;
const EXECUTION_MODELS: Record<number, string> = {
  0: 'Vertex', 1: 'TessellationControl', 2: 'TessellationEvaluation', 3: 'Geometry', 4: 'Fragment', 5: 'GLCompute', 6: 'Kernel',
};

export interface EntryPoint {
  name: string;
  /** 'GLCompute' for a compute shader. */
  executionModel: string;
}

/** The scalar type of a specialization constant, which decides how its value is encoded. */
export type SpecializationType = 'bool' | 'int32' | 'uint32' | 'float32' | 'int64' | 'uint64' | 'float64';

export interface SpecializationConstant {
  /** The constant_id. */
  id: number;
  type: SpecializationType;
}

export interface SpirvInfo {
  /** The words, 4-byte aligned (a copy when the input was not a Uint32Array). */
  words: Uint32Array;
  version: string;
  entryPoints: EntryPoint[];
  /** The constants decorated with SpecId (constant_id), which a pipeline may specialize. */
  specializationConstants: SpecializationConstant[];
}

function badSpirv(expected: string, name: string, received: string): never {
  throw new RangeError(`Expected ${expected} for ${name} but received ${received}`);
}

const describeSize = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Checks that `code` is SPIR-V (a Uint32Array, or a Buffer/Uint8Array of whole words;
 * the magic number first; a 5-word header; the structure lib/vulkan/spirv-check.ts checks)
 * and reads what it declares. Throws TypeError/RangeError naming `name` otherwise.
 */
export function parseSpirv(code: unknown, name = 'code'): SpirvInfo {
  let words: Uint32Array;
  if (code instanceof Uint32Array) {
    words = code;
  } else if (code instanceof Uint8Array) {
    if (code.byteLength % 4 !== 0) {
      badSpirv('SPIR-V (a whole number of 32-bit words)', name, describeSize(code.byteLength, 'byte'));
    }
    words = new Uint32Array(code.buffer.slice(code.byteOffset, code.byteOffset + code.byteLength));
  } else {
    is.fail('type', 'SPIR-V as a Uint32Array or a Buffer/Uint8Array', name, code);
  }
  if (words.length < 5) badSpirv('SPIR-V (at least the 5-word header)', name, describeSize(words.length, 'word'));
  if (words[0] === SWAPPED_MAGIC) badSpirv("SPIR-V in this machine's byte order", name, 'SPIR-V with its words byte-swapped');
  if (words[0] !== SPIRV_MAGIC) badSpirv(`SPIR-V (magic number ${hex(SPIRV_MAGIC)})`, name, `data starting with ${hex(words[0])}`);
  checkSpirvStructure(words, (expected, received) => badSpirv(expected, name, received));
  const version = `${(words[1] >>> 16) & 0xff}.${(words[1] >>> 8) & 0xff}`;
  const entryPoints: EntryPoint[] = [];
  const specIds = new Map<number, number>();  // result id -> SpecId
  const types = new Map<number, SpecializationType | 'other'>();
  const specTypes = new Map<number, SpecializationType | 'other'>();  // result id -> scalar type
  for (let at = 5; at < words.length;) {
    const count = words[at] >>> 16;  // never 0 and never past the end: checked above
    const opcode = words[at] & 0xffff;
    if (opcode === OP_ENTRY_POINT && count >= 4) {
      entryPoints.push({ name: readString(words, at + 3, at + count), executionModel: EXECUTION_MODELS[words[at + 1]] ?? `model ${words[at + 1]}` });
    } else if (opcode === OP_DECORATE && count >= 4 && words[at + 2] === DECORATION_SPEC_ID) {
      specIds.set(words[at + 1], words[at + 3]);
    } else if (opcode === OP_TYPE_BOOL && count >= 2) {
      types.set(words[at + 1], 'bool');
    } else if (opcode === OP_TYPE_INT && count >= 4) {
      const width = words[at + 2];
      types.set(words[at + 1], width === 32 || width === 64 ? `${words[at + 3] ? 'int' : 'uint'}${width}` as SpecializationType : 'other');
    } else if (opcode === OP_TYPE_FLOAT && count >= 3) {
      const width = words[at + 2];
      types.set(words[at + 1], width === 32 || width === 64 ? `float${width}` as SpecializationType : 'other');
    } else if ((opcode === OP_SPEC_CONSTANT || opcode === OP_SPEC_CONSTANT_TRUE || opcode === OP_SPEC_CONSTANT_FALSE) && count >= 3) {
      specTypes.set(words[at + 2], types.get(words[at + 1]) ?? 'other');
    }
    at += count;
  }
  const specializationConstants: SpecializationConstant[] = [];
  for (const [result, id] of specIds) {
    const type = specTypes.get(result);
    if (type && type !== 'other') specializationConstants.push({ id, type });
  }
  specializationConstants.sort((a, b) => a.id - b.id);
  return { words, version, entryPoints, specializationConstants };
}

/** A SPIR-V literal string: UTF-8, NUL-terminated, packed little-endian into words. */
function readString(words: Uint32Array, from: number, to: number): string {
  const bytes: number[] = [];
  for (let i = from; i < to; i++) {
    for (let b = 0; b < 4; b++) {
      const byte = (words[i] >>> (8 * b)) & 0xff;
      if (byte === 0) return Buffer.from(bytes).toString('utf8');
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export class ShaderModule extends VulkanObject<Native.ShaderModule> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly entryPoints: readonly EntryPoint[];
  readonly specializationConstants: readonly SpecializationConstant[];
  /** The SPIR-V version the module declares, e.g. '1.0'. */
  readonly spirvVersion: string;

  /** @internal */
  constructor(token: unknown, handle: Native.ShaderModule, device: Device, allocator: HostAllocator | null, info: SpirvInfo) {
    checkConstruct(token, 'ShaderModule');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.entryPoints = Object.freeze(info.entryPoints.map((e) => Object.freeze(e)));
    this.specializationConstants = Object.freeze(info.specializationConstants.map((c) => Object.freeze(c)));
    this.spirvVersion = info.version;
  }

  /** @internal */
  static handleOf(module: ShaderModule): Native.ShaderModule {
    return ShaderModule.nativeOf(module);
  }
}
