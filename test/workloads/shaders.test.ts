// The compute shaders ship as GLSL (shaders/*.comp) and as the SPIR-V the tests and
// the demo use (shaders/*.spv): the committed SPIR-V must be what glslangValidator
// makes of the GLSL today (`node shaders/build.js` rebuilds it), and what it declares
// must be what the code using it expects.
import * as path from 'path';
import { parseSpirv } from '../../lib/vulkan/shader-module';
import { loadShader, SHADER_NAMES } from '../../lib/workloads/shaders';

const build = require(path.join(__dirname, '..', '..', 'shaders', 'build.js')) as {
  shaders(): { name: string }[];
  compilerVersion(): string | null;
  stale(): string[];
};

const compiler = build.compilerVersion();
if (!compiler) console.log('glslangValidator is not installed (apt-get install glslang-tools): the check of shaders/*.spv against the GLSL is skipped');

(compiler ? test : test.skip)(`shaders/*.spv are what ${compiler ?? 'glslangValidator'} makes of shaders/*.comp`, () => {
  expect(build.shaders().map((s) => s.name)).toEqual([...SHADER_NAMES].sort());
  expect(build.stale()).toEqual([]);  // else: node shaders/build.js
});

test('each shader is SPIR-V 1.0 with a GLCompute main and the specialization constants its users set', () => {
  const expected: Record<string, { id: number; type: string }[]> = {
    scan: [{ id: 0, type: 'uint32' }],
    scan_add: [{ id: 0, type: 'uint32' }],
    transform: [{ id: 0, type: 'uint32' }, { id: 1, type: 'bool' }, { id: 2, type: 'int32' }],
    fill_image: [{ id: 0, type: 'uint32' }, { id: 1, type: 'uint32' }],
  };
  for (const name of SHADER_NAMES) {
    const info = parseSpirv(loadShader(name));
    expect({ name, version: info.version, entryPoints: info.entryPoints, spec: info.specializationConstants })
      .toEqual({ name, version: '1.0', entryPoints: [{ name: 'main', executionModel: 'GLCompute' }], spec: expected[name] });
  }
});

test('SPIR-V given as a Buffer at an odd offset is read the same as the words', () => {
  const words = loadShader('scan');
  const bytes = Buffer.alloc(words.byteLength + 1);
  Buffer.from(words.buffer, words.byteOffset, words.byteLength).copy(bytes, 1);
  const info = parseSpirv(bytes.subarray(1));
  expect(info.words).toEqual(words);
  expect(info.words.byteOffset % 4).toBe(0);
});
