// The structural rules of a SPIR-V module that a driver relies on without checking:
// drivers index arrays of the header's id bound by the ids they read (SwiftShader
// crashes on an id at or above it; lavapipe fails with VK_ERROR_UNKNOWN and leaks).
// Checked here, each instruction against its operand layout in the SPIR-V grammar
// (lib/vulkan/spirv-grammar.ts):
// - the header: version 1.0 to 1.6, an id bound from 1 to the spec's universal limit,
//   schema 0;
// - every instruction fits, has a known opcode and exactly the words its operands take
//   (strings terminated, optional and repeated operands included);
// - every id is above 0 and below the bound, every result id is defined once, every
//   id used is defined somewhere;
// - one OpMemoryModel, at least one OpEntryPoint, each naming an OpFunction.
// Not checked: what spirv-val checks beyond structure (types, layout rules, control flow).
import { ENUMS, OPCODES } from './spirv-grammar';

/** The SPIR-V spec's universal limit on the id bound. */
export const MAX_ID_BOUND = 0x3fffff;
const MAX_MINOR_VERSION = 6;
const OP_TYPE_INT = 21;
const OP_SPEC_CONSTANT_OP = 52;
const OP_FUNCTION = 54;
const OP_ENTRY_POINT = 15;
const OP_MEMORY_MODEL = 14;

/** Throws through `fail(expected, received)`, which names the parameter. */
export function checkSpirvStructure(words: Uint32Array, fail: (expected: string, received: string) => never): void {
  const major = (words[1] >>> 16) & 0xff;
  const minor = (words[1] >>> 8) & 0xff;
  if ((words[1] & 0xff0000ff) !== 0 || major !== 1 || minor > MAX_MINOR_VERSION) {
    fail(`SPIR-V of version 1.0 to 1.${MAX_MINOR_VERSION}`, `version word 0x${words[1].toString(16).padStart(8, '0')}`);
  }
  const bound = words[3];
  if (bound === 0 || bound > MAX_ID_BOUND) fail(`SPIR-V whose header id bound is from 1 to ${MAX_ID_BOUND}`, `a bound of ${bound}`);
  if (words[4] !== 0) fail('SPIR-V whose header schema word is 0', `${words[4]}`);

  const defined = new Uint8Array(bound);
  const wideInts = new Set<number>();      // OpTypeInt of 64 bits, and values of such a type: OpSwitch reads them
  let uses: number[] = [];                  // id, word of the instruction, pairs
  let memoryModels = 0;
  const entryFunctions: [number, number][] = [];
  const functions = new Set<number>();

  for (let at = 5; at < words.length;) {
    const count = words[at] >>> 16;
    const opcode = words[at] & 0xffff;
    if (count === 0 || at + count > words.length) {
      fail('SPIR-V whose instructions fit in it', `an instruction at word ${at} ` +
        (count === 0 ? 'with a length of 0' : `of ${count} word${count === 1 ? '' : 's'}, past the end (${words.length} words)`));
    }
    const entry = OPCODES.get(opcode);
    if (!entry) fail('SPIR-V instructions the SPIR-V grammar defines', `opcode ${opcode} at word ${at}`);
    const [name, layout] = entry;
    const end = at + count;
    let p = at + 1;
    let resultType = 0;
    let result = 0;
    const malformed: (why: string) => never = (why) => fail('SPIR-V instructions with the operands the SPIR-V grammar gives them',
      `Op${name} at word ${at} with ${count} word${count === 1 ? '' : 's'} (${why})`);
    const id = (): number => {
      if (p >= end) malformed('an operand missing');
      const v = words[p++];
      if (v === 0 || v >= bound) {
        fail(`SPIR-V whose ids are from 1 to below the header's bound (${bound})`, `id ${v} in Op${name} at word ${at}`);
      }
      return v;
    };
    const literal = () => {
      if (p >= end) malformed('an operand missing');
      return words[p++];
    };
    const string = () => {
      for (; p < end; p++) {
        const w = words[p];
        if ((w & 0xff) === 0 || (w & 0xff00) === 0 || (w & 0xff0000) === 0 || (w & 0xff000000) === 0) {
          p++;
          return;
        }
      }
      malformed('a string without its terminating NUL');
    };
    const operand = (code: string): void => {
      switch (code) {
        case 't': resultType = id(); break;
        case 'r': result = id(); break;
        case 'i': uses.push(id(), at); break;
        case 'l': literal(); break;
        case 's': string(); break;
        case 'n': p = Math.max(p + 1, end); break;
        case 'P': uses.push(id(), at, id(), at); break;
        case 'Q': uses.push(id(), at); literal(); break;
        case 'w': {
          if (wideInts.has(words[at + 1])) literal();
          literal();
          uses.push(id(), at);
          break;
        }
        default: {
          const e = ENUMS[code];
          const value = literal();
          if (!e.bits) {
            operands(e.params[value] ?? '');
          } else {
            for (let bit = 1; bit !== 0 && bit <= value; bit = (bit << 1) >>> 0) {
              if ((value & bit) !== 0 && e.params[bit]) operands(e.params[bit]);
            }
          }
        }
      }
    };
    const operands = (list: string): void => {
      for (let k = 0; k < list.length; k++) {
        const code = list[k];
        const quantifier = list[k + 1];
        if (quantifier === '?') {
          k++;
          if (p < end) operand(code);
        } else if (quantifier === '*') {
          k++;
          while (p < end) operand(code);
        } else {
          operand(code);
        }
      }
    };
    operands(layout);
    if (opcode === OP_SPEC_CONSTANT_OP) {
      // The operands of the operation it names, after its result type and id.
      const inner = OPCODES.get(words[at + 3]);
      if (!inner || !inner[1].startsWith('tr')) malformed(`an operation OpSpecConstantOp cannot take, opcode ${words[at + 3]}`);
      operands(inner[1].slice(2));
    }
    if (p < end) malformed(`${end - p} word${end - p === 1 ? '' : 's'} past its operands`);
    if (p > end) malformed('an operand missing');

    if (resultType !== 0) uses.push(resultType, at);
    if (result !== 0) {
      if (defined[result]) fail('SPIR-V whose result ids are each defined once', `id ${result} defined again by Op${name} at word ${at}`);
      defined[result] = 1;
      if (opcode === OP_TYPE_INT && words[at + 2] === 64) wideInts.add(result);
      if (resultType !== 0 && wideInts.has(resultType)) wideInts.add(result);
      if (opcode === OP_FUNCTION) functions.add(result);
    }
    if (opcode === OP_MEMORY_MODEL) memoryModels++;
    if (opcode === OP_ENTRY_POINT) entryFunctions.push([words[at + 2], at]);
    at = end;
    if (uses.length > 1 << 16) uses = settle(uses, defined, true);
  }
  settle(uses, defined, false, fail);
  if (memoryModels !== 1) fail('SPIR-V with one OpMemoryModel', `${memoryModels}`);
  if (entryFunctions.length === 0) fail('SPIR-V with at least one OpEntryPoint', 'none');
  for (const [fn, at] of entryFunctions) {
    if (!functions.has(fn)) fail('SPIR-V whose entry points name an OpFunction', `OpEntryPoint at word ${at} naming id ${fn}`);
  }
}

/**
 * Drops the uses of ids defined by now; at the end (partial false), the first use of an
 * id never defined fails. (Forward references are legal: only the end decides.)
 */
function settle(uses: number[], defined: Uint8Array, partial: boolean, fail?: (expected: string, received: string) => never): number[] {
  const left: number[] = [];
  for (let k = 0; k < uses.length; k += 2) {
    if (defined[uses[k]]) continue;
    if (!partial) fail!('SPIR-V whose ids are all defined', `id ${uses[k]} used at word ${uses[k + 1]} and never defined`);
    left.push(uses[k], uses[k + 1]);
  }
  return left;
}
