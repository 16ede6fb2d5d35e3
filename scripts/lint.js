#!/usr/bin/env node
// `npm run lint`: ESLint over the TypeScript and scripts (eslint.config.mjs),
// clang-format's check of native/ (.clang-format; generated code excluded), and the
// API reference's doc comments (typedoc, warnings are errors; `npm run docs` writes
// it to build/api-reference), and that the scripts outside lib/ (bench/, examples/,
// scripts/) require only dist/ modules that lib/ has: no test runs the benchmark, and
// a module moved in lib/ once left it broken. Exit 1 on any finding. `npm run lint -- --fix` rewrites
// what ESLint and clang-format can.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const fix = process.argv.includes('--fix');

function run(command, args) {
  const r = childProcess.spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`lint: could not run ${command}: ${r.error.message}\n`);
    return false;
  }
  return r.status === 0;
}

const eslintOk = run(path.join(ROOT, 'node_modules', '.bin', 'eslint'), [...(fix ? ['--fix'] : []), '--max-warnings', '0', '.']);

const listed = childProcess.spawnSync('git', ['ls-files', 'native/*.cc', 'native/*.h'], { cwd: ROOT, encoding: 'utf8' });
const sources = listed.stdout.split('\n').filter((f) => f && !f.includes('/generated/'));
const formatOk = sources.length === 0 ||
  run('clang-format', [...(fix ? ['-i'] : ['--dry-run', '--Werror']), '--style=file', ...sources]);

const docsOk = run(path.join(ROOT, 'node_modules', '.bin', 'typedoc'), ['--emit', 'none', '--logLevel', 'Warn']);

// Every require of ../dist/X.js (or ../../dist/X.js from a subfolder) must name a lib/X.ts.
const scripts = childProcess.spawnSync('git', ['ls-files', 'bench/*.js', 'examples/*.js', 'scripts/*.js', 'test/fixtures/*.js'],
  { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
let requiresOk = true;
for (const file of scripts) {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  for (const m of text.matchAll(/require\((['"])((?:\.\.\/)+)dist\/([\w/.-]+?)(?:\.js)?\1\)/g)) {
    const source = path.join(ROOT, 'lib', `${m[3]}.ts`);
    if (path.resolve(path.dirname(path.join(ROOT, file)), m[2]) === ROOT && !fs.existsSync(source)) {
      process.stderr.write(`${file}: requires dist/${m[3]}.js, but lib/${m[3]}.ts does not exist\n`);
      requiresOk = false;
    }
  }
}

const word = (ok) => (ok ? 'clean' : 'FAILED');
process.stdout.write(`lint: eslint ${word(eslintOk)}, clang-format ${word(formatOk)} (${sources.length} native files), ` +
  `typedoc ${word(docsOk)}, dist requires ${word(requiresOk)} (${scripts.length} scripts)\n`);
process.exitCode = eslintOk && formatOk && docsOk && requiresOk ? 0 : 1;
