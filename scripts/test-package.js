#!/usr/bin/env node
// The published artifact, tested as a user gets it: `npm pack` (prepack builds dist/
// and the prebuilt binaries), then `npm install <tarball>` into an empty project whose
// PATH has node and npm but no compiler, cmake or Vulkan headers. From that project:
// require (CommonJS), import (ES modules), the shipped types compiled by tsc without
// and with @types/node, `npx vkalloc info`, and the examples.
//
//   node scripts/test-package.js [--keep]     (--keep leaves the project for a look)
//
// Needs the npm registry for the package's dependencies (and @types/node).
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const keep = process.argv.includes('--keep');
const results = [];

function sh(command, args, options = {}) {
  const r = childProcess.spawnSync(command, args, { encoding: 'utf8', timeout: 300_000, ...options });
  return { status: r.status, stdout: r.stdout ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

function check(name, fn) {
  const started = Date.now();
  try {
    fn();
    results.push([name, null]);
    process.stdout.write(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  } catch (e) {
    results.push([name, e]);
    process.stdout.write(`FAIL ${name}\n${String(e.message).replace(/^/gm, '     ')}\n`);
  }
}

function expectRun(r, what, pattern) {
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status}:\n${r.out}`);
  if (pattern && !pattern.test(r.out)) throw new Error(`${what}: output does not match ${pattern}:\n${r.out}`);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-package-'));
const project = path.join(work, 'project');
fs.mkdirSync(project);

// A PATH with node and npm only: whatever the package needs at install or run time
// beyond them is a failure here.
const bin = path.join(work, 'bin');
fs.mkdirSync(bin);
const npmCli = path.join(path.dirname(process.execPath), 'npm');
for (const [name, target] of [['node', process.execPath], ['npm', fs.realpathSync(npmCli)], ['npx', fs.realpathSync(`${npmCli.slice(0, -3)}npx`)], ['sh', '/bin/sh']]) {
  fs.symlinkSync(target, path.join(bin, name));
}
const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
for (const key of Object.keys(env)) if (key.startsWith('npm_lifecycle') || key.startsWith('npm_package')) delete env[key];
const inProject = (command, args, extra = {}) => sh(command, args, { cwd: project, env: { ...env, ...extra } });

let tarball;
check('npm pack builds dist/ and the prebuilds into the tarball', () => {
  const r = sh('npm', ['pack', '--pack-destination', work, '--json'], { cwd: ROOT });
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.out}`);
  // prepack's build logs come first on stdout; npm's JSON report is the last thing.
  const info = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('\n[\n') + 1))[0];
  tarball = path.join(work, info.filename);
  const files = info.files.map((f) => f.path);
  for (const needed of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/cli/main.js', 'prebuilds/linux-x64/vkalloc.napi.node', 'LICENSE', 'shaders/scan.spv']) {
    if (!files.includes(needed)) throw new Error(`the tarball lacks ${needed}`);
  }
  for (const f of files) {
    if (/^(build|test|bench|node_modules|\.cache)\//.test(f) || f.endsWith('.map')) throw new Error(`the tarball carries ${f}`);
  }
  process.stdout.write(`     ${info.filename}: ${info.files.length} files, ${(info.size / 1024).toFixed(0)} KiB packed\n`);
});

const localBin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

check('publint --strict finds nothing in the tarball', () => {
  if (!tarball) throw new Error('no tarball (npm pack failed)');
  const unpacked = path.join(work, 'unpacked');
  fs.mkdirSync(unpacked);
  expectRun(sh('tar', ['-xzf', tarball, '-C', unpacked]), 'tar');
  const r = sh(localBin('publint'), ['--strict', '--pack', 'false', path.join(unpacked, 'package')], { cwd: ROOT });
  expectRun(r, 'publint');
  if (!/All good/i.test(r.out) || /Suggestions|Warnings|Errors/.test(r.out)) throw new Error(`publint:\n${r.out}`);
});

check('are the types wrong? (attw, node16 and bundler resolution, CJS and ESM)', () => {
  if (!tarball) throw new Error('no tarball (npm pack failed)');
  expectRun(sh(localBin('attw'), [tarball, '--profile', 'node16', '--format', 'table-flipped'], { cwd: ROOT }), 'attw');
});

check('the project has no compiler or cmake on PATH', () => {
  for (const tool of ['cc', 'gcc', 'g++', 'cmake', 'make']) {
    const r = inProject('sh', ['-c', `command -v ${tool}`]);
    if (r.status === 0) throw new Error(`${tool} is reachable: ${r.out}`);
  }
});

check('npm install <tarball> into an empty project', () => {
  if (!tarball) throw new Error('no tarball (npm pack failed)');
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'try-vkalloc', private: true }, null, 2));
  expectRun(inProject('npm', ['install', '--no-package-lock', tarball]), 'npm install');
  if (fs.existsSync(path.join(project, 'node_modules', 'vkalloc', 'build'))) throw new Error('the installed package has a build/');
});

const driverEnv = process.env.VKALLOC_PACKAGE_DRIVER ?? 'lavapipe';
check('require (CommonJS): an instance with a TypeScript policy, from the prebuilt addon', () => {
  const script = `
    const v = require('vkalloc');
    const allocator = new v.HostAllocator();
    v.createInstance({ driver: ${JSON.stringify(driverEnv)} }, { allocator }).destroy();
    const s = allocator.stats();
    if (s.calls.allocate < 10 || s.liveCount !== 0) throw new Error(JSON.stringify(s.calls));
    console.log('allocations', s.calls.allocate, require.resolve('vkalloc'));`;
  expectRun(inProject('node', ['-e', script]), 'require', /allocations \d+ .*node_modules\/vkalloc\/dist\/index\.js/);
});

check('import (ES modules), subpaths included', () => {
  const script = `
    import { HostAllocator, createInstance } from 'vkalloc';
    import { formatBytes } from 'vkalloc/report';
    import { prefixSumOnCpu } from 'vkalloc/workloads';
    import vkalloc from 'vkalloc';
    if (vkalloc.HostAllocator !== HostAllocator) throw new Error('two copies');
    const allocator = new HostAllocator();
    createInstance({ driver: ${JSON.stringify(driverEnv)} }, { allocator }).destroy();
    console.log(formatBytes(allocator.stats().peakBytes), prefixSumOnCpu(new Uint32Array([1, 2, 3])).join(','));`;
  expectRun(inProject('node', ['--input-type=module', '-e', script]), 'import', /1,3,6/);
});

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TS_SOURCE = `
import { AlignedHeaderPolicy, HostAllocator, createInstance, type AllocatorPolicy, type AllocatorStats } from 'vkalloc';
import { commandTable } from 'vkalloc/report';
const policy: AllocatorPolicy = new AlignedHeaderPolicy();
const allocator = new HostAllocator(policy);
const instance = createInstance({ driver: process.env.VKALLOC_PACKAGE_DRIVER ?? 'lavapipe' }, { allocator });
instance.destroy();
const stats: AllocatorStats = allocator.stats();
console.log(commandTable(stats).split('\\n').length > 2 ? 'typed ok' : 'no table');
declare const process: { env: Record<string, string | undefined> };
`;
for (const withNodeTypes of [false, true]) {
  const label = withNodeTypes ? 'with @types/node' : 'without @types/node';
  check(`tsc compiles a user's file against the shipped types, ${label}`, () => {
    if (withNodeTypes) expectRun(inProject('npm', ['install', '--no-package-lock', '--no-save', '@types/node@20']), 'npm install @types/node');
    const dir = path.join(project, withNodeTypes ? 'ts-node-types' : 'ts-plain');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'main.ts'), TS_SOURCE);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'es2022', module: 'node16', moduleResolution: 'node16', strict: true, outDir: 'out',
        types: withNodeTypes ? ['node'] : [], skipLibCheck: false,
      },
      files: ['main.ts'],
    }));
    expectRun(sh('node', [TSC, '-p', dir], { cwd: dir, env }), 'tsc');
    expectRun(sh('node', [path.join(dir, 'out', 'main.js')], { cwd: dir, env }), 'the compiled file', /typed ok/);
  });
}

check('npx vkalloc info', () => {
  expectRun(inProject('npx', ['--no-install', 'vkalloc', 'info']), 'npx vkalloc info', /loader/i);
});

for (const example of fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.js'))) {
  check(`examples/${example} runs against the installed package`, () => {
    const copy = path.join(project, example);
    fs.copyFileSync(path.join(ROOT, 'examples', example), copy);
    expectRun(inProject('node', [copy, path.join(project, 'report.html')], { VKALLOC_EXAMPLE_DRIVER: driverEnv }), example);
  });
}

if (!keep) fs.rmSync(work, { recursive: true, force: true });
else process.stdout.write(`kept ${work}\n`);
const failed = results.filter(([, e]) => e).length;
process.stdout.write(`package: ${results.length - failed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
