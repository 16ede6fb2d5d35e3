#!/usr/bin/env node
// Builds the binaries the npm package ships, into prebuilds/<platform>-<arch>/, where
// node-gyp-build finds them when the package has no build/ of its own:
//   vkalloc.napi.node       the addon (Node-API 8: one binary for every Node version)
//   libVkLayer_vkalloc.so   the Vulkan layer (no Node; `vkalloc trace|sweep|check -- cmd`)
//   VkLayer_vkalloc.json    its manifest (library_path relative: ./libVkLayer_vkalloc.so)
// Built apart from the development build (build-release/), without the test driver
// (VKALLOC_TEST_HOOKS off). Prints the newest glibc symbol version the binaries
// need, which is the oldest glibc they run on (docs/packaging.md).
//
//   node scripts/prebuild.js            build and copy
//   node scripts/prebuild.js --check    only report what is there
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'build-release');
const TARGET_DIR = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
// What the build makes (relative to OUT_DIR/Release) → its name in the package.
const BINARIES = [
  ['vkalloc.node', 'vkalloc.napi.node'],
  ['libVkLayer_vkalloc.so', 'libVkLayer_vkalloc.so'],
  ['VkLayer_vkalloc.json', 'VkLayer_vkalloc.json'],
];

function run(command, args) {
  const r = childProcess.spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`prebuild: \`${[command, ...args].join(' ')}\` failed (${r.error ? r.error.message : `status ${r.status}`})\n`);
    process.exit(1);
  }
}

/** The highest GLIBC_x.y symbol version a binary needs, or null. */
function glibcNeeded(file) {
  const r = childProcess.spawnSync('objdump', ['-T', file], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const versions = [...r.stdout.matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => [+m[1], +m[2], +(m[3] ?? 0)]);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const top = versions.pop();
  return top ? top.filter((n, i) => i < 2 || n > 0).join('.') : null;
}

function main(argv) {
  if (!argv.includes('--check')) {
    const cmakeJs = path.join(ROOT, 'node_modules', '.bin', 'cmake-js');
    run(cmakeJs, ['configure', '--out', path.relative(ROOT, OUT_DIR), '--CDVKALLOC_TEST_HOOKS=OFF']);
    run(cmakeJs, ['build', '--out', path.relative(ROOT, OUT_DIR)]);
    fs.rmSync(TARGET_DIR, { recursive: true, force: true });
    fs.mkdirSync(TARGET_DIR, { recursive: true });
    for (const [built, shipped] of BINARIES) {
      const from = path.join(OUT_DIR, 'Release', built);
      if (!fs.existsSync(from)) {
        process.stderr.write(`prebuild: the build did not produce ${path.relative(ROOT, from)}\n`);
        process.exit(1);
      }
      fs.copyFileSync(from, path.join(TARGET_DIR, shipped));
      if (shipped.endsWith('.node') || shipped.endsWith('.so')) run('strip', ['--strip-unneeded', path.join(TARGET_DIR, shipped)]);
    }
  }
  for (const [, shipped] of BINARIES) {
    const file = path.join(TARGET_DIR, shipped);
    if (!fs.existsSync(file)) {
      process.stderr.write(`prebuild: ${path.relative(ROOT, file)} is missing\n`);
      process.exit(1);
    }
    const size = (fs.statSync(file).size / 1024).toFixed(0);
    const glibc = shipped.endsWith('.json') ? '' : `, needs glibc ${glibcNeeded(file) ?? '?'}`;
    process.stdout.write(`prebuild: ${path.relative(ROOT, file)} (${size} KiB${glibc})\n`);
  }
}

main(process.argv.slice(2));
