#!/usr/bin/env node
// `npm run lint`: ESLint over the TypeScript and scripts (eslint.config.mjs),
// clang-format's check of native/ (.clang-format; generated code excluded), and the
// API reference's doc comments (typedoc, warnings are errors; `npm run docs` writes
// it to build/api-reference). Exit 1 on any finding. `npm run lint -- --fix` rewrites
// what ESLint and clang-format can.
'use strict';

const childProcess = require('child_process');
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

const word = (ok) => (ok ? 'clean' : 'FAILED');
process.stdout.write(`lint: eslint ${word(eslintOk)}, clang-format ${word(formatOk)} (${sources.length} native files), typedoc ${word(docsOk)}\n`);
process.exitCode = eslintOk && formatOk && docsOk ? 0 : 1;
