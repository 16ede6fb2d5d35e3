#!/usr/bin/env node
// Rebuilds the committed SPIR-V (shaders/*.spv) from the GLSL compute shaders next to
// it (shaders/*.comp) with glslangValidator (Debian: apt-get install glslang-tools).
// Tests and the demo use the committed .spv, so they need no compiler.
//
//   node shaders/build.js           writes shaders/<name>.spv for every shaders/<name>.comp
//   node shaders/build.js --check   compiles into a temporary directory and exits 1 if any
//                                   committed .spv differs from what glslangValidator gives now
//
// SPIR-V 1.0 for Vulkan 1.0 (--target-env vulkan1.0), without debug information, so the
// output depends only on the source and the glslang version.
//
// Only Node's built-in modules.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SHADERS = __dirname;
const COMPILER = 'glslangValidator';

/** The GLSL sources, sorted: [{ name, source, spv }]. */
function shaders() {
  return fs.readdirSync(SHADERS).filter((f) => f.endsWith('.comp')).sort().map((f) => {
    const name = f.slice(0, -'.comp'.length);
    return { name, source: path.join(SHADERS, f), spv: path.join(SHADERS, `${name}.spv`) };
  });
}

/** glslangValidator's version line, or null when it is not installed. */
function compilerVersion() {
  const r = childProcess.spawnSync(COMPILER, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return (r.stdout.split('\n').find((l) => l.startsWith('Glslang Version')) || r.stdout.split('\n')[0]).trim();
}

/** Compiles one shader to `out`; throws with the compiler's output on failure. */
function compile(source, out) {
  const r = childProcess.spawnSync(COMPILER, ['-V', '--target-env', 'vulkan1.0', '-o', out, source], { encoding: 'utf8' });
  if (r.error) throw new Error(`${COMPILER} could not be run (${r.error.message}): install it with: apt-get install glslang-tools`);
  if (r.status !== 0) throw new Error(`${COMPILER} failed on ${path.basename(source)}:\n${r.stdout}${r.stderr}`);
}

/** Compiles every shader into a temporary directory; returns [{ name, committed, fresh }] (Buffers; committed null if missing). */
function compileAll() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-shaders-'));
  try {
    return shaders().map(({ name, source, spv }) => {
      const out = path.join(dir, `${name}.spv`);
      compile(source, out);
      return { name, committed: fs.existsSync(spv) ? fs.readFileSync(spv) : null, fresh: fs.readFileSync(out) };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The shaders whose committed .spv differs from a fresh compile (empty when all match). */
function stale() {
  return compileAll().filter((r) => !r.committed || !r.committed.equals(r.fresh)).map((r) => r.name);
}

function main() {
  const check = process.argv.includes('--check');
  if (!compilerVersion()) {
    console.error(`${COMPILER} is not installed: apt-get install glslang-tools`);
    process.exit(2);
  }
  if (check) {
    const names = stale();
    if (names.length > 0) {
      console.error(`Out of date: ${names.map((n) => `shaders/${n}.spv`).join(', ')}. Rebuild with: node shaders/build.js`);
      process.exit(1);
    }
    console.log(`shaders/*.spv match ${compilerVersion()}`);
    return;
  }
  for (const r of compileAll()) {
    const spv = path.join(SHADERS, `${r.name}.spv`);
    if (r.committed && r.committed.equals(r.fresh)) continue;
    fs.writeFileSync(spv, r.fresh);
    console.log(`wrote shaders/${r.name}.spv (${r.fresh.length} bytes)`);
  }
}

module.exports = { shaders, compilerVersion, compileAll, stale };

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
