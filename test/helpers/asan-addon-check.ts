// Loaded by scripts/test-asan.js (jest --setupFilesAfterEnv) into every jest worker;
// inert unless that script set VKALLOC_ASAN_ADDON.
//  - After each test file, every vkalloc.node this worker has mapped must be the ASan
//    build the script named, so that a change in how lib/native/binding.ts finds the addon
//    cannot make `npm run test:asan` quietly test the ordinary build.
//  - Child processes that are not node (Chromium for the HTML report, cc and the C
//    oracle) are started without the sanitizer runtimes the script preloads: they never
//    load vkalloc.node, and Chromium hangs with ASan's malloc preloaded. Node children
//    (which load the addon) keep them: ASan must be the first library they load.
import * as fs from 'fs';
import * as path from 'path';

const expected = process.env.VKALLOC_ASAN_ADDON;
const preloaded = (process.env.VKALLOC_ASAN_PRELOAD ?? '').split(':').filter(Boolean);

function isNode(file: string): boolean {
  return file === process.execPath || path.basename(file) === 'node';
}

function withoutSanitizers(env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const out = { ...(env ?? process.env) };
  const rest = (out.LD_PRELOAD ?? '').split(':').filter((lib) => lib && !preloaded.includes(lib));
  if (rest.length > 0) out.LD_PRELOAD = rest.join(':');
  else delete out.LD_PRELOAD;
  return out;
}

const PATCHED = Symbol.for('vkalloc.asanSpawnPatched');
type Spawner = (file: string, ...rest: unknown[]) => unknown;

if (expected) {
  // The module object itself (an `import * as` would be a copy): playwright's spawn goes through it.

  const cp: Record<string | symbol, unknown> = require('child_process');
  if (!cp[PATCHED]) {
    cp[PATCHED] = true;
    for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync'] as const) {
      const original = cp[name] as Spawner;
      // (file, args?, options?, callback?): the options object is the first non-array object.
      cp[name] = function patched(this: unknown, file: string, ...rest: unknown[]) {
        if (isNode(file)) return original.call(this, file, ...rest);
        const at = rest.findIndex((a) => a !== null && typeof a === 'object' && !Array.isArray(a));
        if (at >= 0) {
          const opts = rest[at] as { env?: NodeJS.ProcessEnv };
          rest[at] = { ...opts, env: withoutSanitizers(opts.env) };
        } else {
          const args = Array.isArray(rest[0]) ? [rest.shift()] : [[]];
          rest = [...args, { env: withoutSanitizers(undefined) }, ...rest];
        }
        return original.call(this, file, ...rest);
      };
    }
  }

  afterAll(() => {
    const mapped = new Set<string>();
    for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const file = line.slice(line.indexOf('/'));
      if (line.includes('/') && file.endsWith('/vkalloc.node')) mapped.add(file);
    }
    const others = [...mapped].filter((f) => f !== expected);
    if (others.length > 0) {
      throw new Error(`test:asan: this worker loaded ${others.join(', ')} instead of the ASan build ${expected}`);
    }
  });
}
