#!/usr/bin/env node
// `npm run valgrind`: the demo (`node dist/workloads/demo.js`: instance, device, buffer, mapped
// memory, a submit and a compute job on the default driver, every host allocation
// through the TypeScript policy, then teardown) under valgrind's memcheck.
//
//   node scripts/valgrind-demo.js [--track-origins] [--no-setup] [-- <node arguments instead of dist/workloads/demo.js>]
//
// It runs
//   valgrind --tool=memcheck --error-exitcode=1 --suppressions=scripts/valgrind.supp
//            --num-callers=40 --leak-check=summary node dist/workloads/demo.js
// on the addon `npm run build` made (build/Release/vkalloc.node, the one that ships),
// and fails when memcheck reports any error not in scripts/valgrind.supp (each entry
// there says why it is not vkalloc's), or when the demo itself fails. Errors are
// listed with whether their stack has a vkalloc.node frame. Leaks are not judged here
// (node, V8, the loader and the drivers keep memory at exit by design; `npm run
// test:asan` checks vkalloc's own with LeakSanitizer): the leak summary is shown.
//
// Takes about a minute on lavapipe (2 cores; the demo alone takes about a second).
// The full memcheck log is kept in build-valgrind/memcheck.log.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const SUPPRESSIONS = path.join(ROOT, 'scripts', 'valgrind.supp');
const OUT = path.join(ROOT, 'build-valgrind');
const LOG = path.join(OUT, 'memcheck.log');

function log(message) {
  process.stderr.write(`valgrind-demo: ${message}\n`);
}

function run(command, args, options = {}) {
  return childProcess.spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
}

function valgrindVersion() {
  const r = run('valgrind', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** valgrind from Debian when it is missing and we may (root, or password-less sudo). */
function ensureValgrind() {
  if (valgrindVersion()) return true;
  const asRoot = process.getuid && process.getuid() === 0 ? [] :
    run('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? ['sudo', '-n'] : null;
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', 'valgrind'];
  if (asRoot === null || run('dpkg-query', ['--version'], { stdio: 'ignore' }).status !== 0) {
    log(`valgrind is not installed: install it (Debian/Ubuntu: sudo ${install.join(' ')}) and run again`);
    return false;
  }
  log('installing valgrind (apt-get) ...');
  const [cmd, ...args] = [...asRoot, 'env', 'DEBIAN_FRONTEND=noninteractive', ...install];
  if (run(cmd, args).status !== 0) {
    const [ucmd, ...uargs] = [...asRoot, 'apt-get', 'update', '-q'];
    run(ucmd, uargs);
    run(cmd, args);
  }
  return Boolean(valgrindVersion());
}

/** The error records in a memcheck log: [{ kind, text, vkalloc }] (one per reported context). */
function memcheckErrors(text) {
  const errors = [];
  const lines = text.split('\n').map((l) => l.replace(/^==\d+== ?/, ''));
  let current = null;
  for (const line of lines) {
    if (current === null) {
      if (/^(Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|.*contains uninitialised|Argument '.*' of function|Jump to the invalid address|Process terminating)/.test(line)) {
        current = { kind: line.trim(), lines: [line] };
      }
    } else if (line.trim() === '') {
      errors.push(current);
      current = null;
    } else {
      current.lines.push(line);
    }
  }
  if (current) errors.push(current);
  return errors.map((e) => ({ kind: e.kind, text: e.lines.join('\n'), vkalloc: e.lines.some((l) => l.includes('vkalloc.node')) }));
}

function main(argv) {
  const dash = argv.indexOf('--');
  const own = new Set(dash < 0 ? argv : argv.slice(0, dash));
  const target = dash < 0 ? [path.join('dist', 'workloads', 'demo.js')] : argv.slice(dash + 1);
  for (const flag of own) {
    if (flag !== '--track-origins' && flag !== '--no-setup') {
      process.stderr.write(`valgrind-demo: unknown option ${flag}\nusage: node scripts/valgrind-demo.js [--track-origins] [--no-setup] [-- <node arguments>]\n`);
      return 2;
    }
  }
  if (!own.has('--no-setup')) {
    const setup = run(process.execPath, [path.join(ROOT, 'scripts', 'setup.js')]);
    if (setup.status !== 0) return 1;
  }
  if (!ensureValgrind()) return 1;
  fs.mkdirSync(OUT, { recursive: true });

  const args = [
    '--tool=memcheck',
    '--error-exitcode=1',
    `--suppressions=${SUPPRESSIONS}`,
    '--num-callers=40',
    '--leak-check=summary',
    // V8 generates code; valgrind must notice when it rewrites it (the default, stated).
    '--smc-check=all-non-file',
    '--show-error-list=yes',
    `--log-file=${LOG}`,
    ...(own.has('--track-origins') ? ['--track-origins=yes'] : []),
    process.execPath, ...target,
  ];
  log(`${valgrindVersion()}: valgrind ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
  const start = process.hrtime.bigint();
  const r = run('valgrind', args);
  const seconds = (Number(process.hrtime.bigint() - start) / 1e9).toFixed(1);
  const text = fs.existsSync(LOG) ? fs.readFileSync(LOG, 'utf8') : '';

  const errors = memcheckErrors(text.split(/\n==\d+== ERROR SUMMARY:/)[0].split(/\n==\d+== HEAP SUMMARY:/)[0]);
  // The first few in full (those with vkalloc.node frames first); the log has them all.
  const shown = [...errors.filter((e) => e.vkalloc), ...errors.filter((e) => !e.vkalloc)].slice(0, 5);
  for (const e of shown) process.stderr.write(`\n----- ${e.vkalloc ? 'error with vkalloc.node frames' : 'error (no vkalloc.node frame)'} -----\n${e.text}\n`);
  if (errors.length > shown.length) process.stderr.write(`\n(${errors.length - shown.length} more error contexts in ${path.relative(ROOT, LOG)})\n`);
  const summary = (text.match(/ERROR SUMMARY: .*/) || ['ERROR SUMMARY: (none: valgrind did not finish)'])[0];
  const suppressed = (text.match(/used_suppression:.*|^\s*\d+ .*\.supp:\d+ .*$/gm) || []);
  const leak = (text.match(/definitely lost: .*|indirectly lost: .*|possibly lost: .*/g) || []).map((s) => s.trim());
  log(`${seconds} s under valgrind; demo exit status ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}`);
  log(summary);
  if (suppressed.length > 0) log(`suppressed (scripts/valgrind.supp): ${suppressed.map((s) => s.replace(/^\s*used_suppression:\s*/, '').trim()).join('; ')}`);
  if (leak.length > 0) log(`leaks at exit (not judged here): ${leak.join(', ')}`);
  const inVkalloc = errors.filter((e) => e.vkalloc).length;
  if (r.status !== 0 || errors.length > 0 || !/ERROR SUMMARY: 0 errors/.test(summary)) {
    log(`FAILED: ${errors.length} error context(s) not suppressed, ${inVkalloc} with vkalloc.node frames; full log: ${path.relative(ROOT, LOG)}`);
    return 1;
  }
  log(`clean: no memcheck errors outside scripts/valgrind.supp, none in vkalloc.node (full log: ${path.relative(ROOT, LOG)})`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
