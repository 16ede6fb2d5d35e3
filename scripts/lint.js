#!/usr/bin/env node
// `npm run lint`: ESLint over the TypeScript and scripts (eslint.config.mjs), and
// clang-format's check of native/ (.clang-format; generated code excluded). Exit 1 on
// any finding. `npm run lint -- --fix` rewrites what both tools can.
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

process.stdout.write(`lint: eslint ${eslintOk ? 'clean' : 'FAILED'}, clang-format ${formatOk ? 'clean' : 'FAILED'} (${sources.length} native files)\n`);
process.exitCode = eslintOk && formatOk ? 0 : 1;
