// The compute shaders vkalloc ships (shaders/*.comp) as the SPIR-V committed next to
// them (shaders/*.spv, rebuilt by `node shaders/build.js`): nothing is compiled at run time.
import * as fs from 'fs';
import * as path from 'path';
import * as is from '../util/is';
import { packagePath } from '../native/paths';

/** Where the .spv files are: shaders/ at the package root (one level above lib/ and dist/). */
export const SHADER_DIR = packagePath('shaders');

export const SHADER_NAMES = ['scan', 'scan_add', 'transform', 'fill_image'] as const;
export type ShaderName = (typeof SHADER_NAMES)[number];

const cache = new Map<ShaderName, Uint32Array>();

/** The SPIR-V of one of vkalloc's shaders, as words (read once). */
export function loadShader(name: ShaderName): Uint32Array {
  is.oneOf(name, 'name', SHADER_NAMES);
  let words = cache.get(name);
  if (!words) {
    const bytes = fs.readFileSync(path.join(SHADER_DIR, `${name}.spv`));
    words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    cache.set(name, words);
  }
  return words;
}
