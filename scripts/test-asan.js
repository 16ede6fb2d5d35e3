#!/usr/bin/env node
// `npm run test:asan`: the native addon built with AddressSanitizer and
// UndefinedBehaviorSanitizer, and the whole jest suite run on it, plus a LeakSanitizer
// run of a small workload that creates and destroys everything.
//
//   node scripts/test-asan.js [--skip-setup] [--skip-lsan] [--skip-jest] [<jest arguments>]
//
// Steps (each timed):
//   1. `node scripts/setup.js --for-tests` (packages, SwiftShader, npm deps, dist/: the
//      oracle test runs dist/ in a child process, which loads the ASan addon too).
//   2. cmake-js builds the addon with -DVKALLOC_SANITIZE=ON (RelWithDebInfo: optimised,
//      with line numbers in reports) into build-asan/cmake/, incrementally; the result is
//      linked as build-asan/build/Release/vkalloc.node.
//   3. Which addon loads: node-gyp-build (lib/native/binding.ts) honours <NAME>_PREBUILD,
//      i.e. VKALLOC_PREBUILD=<dir>, and then loads <dir>/build/Release/*.node. So
//      VKALLOC_PREBUILD=build-asan makes every process (jest workers and the node
//      processes tests spawn) load the ASan build, with no change to lib/. This is
//      checked, not assumed: a probe process must map build-asan's vkalloc.node, and
//      every jest worker checks /proc/self/maps after each test file
//      (test/helpers/asan-addon-check.ts).
//   4. LeakSanitizer run (detect_leaks=1) of this script's --lsan-workload: instances,
//      devices, buffers, memory, fences and submits on lavapipe and SwiftShader with a
//      TypeScript policy and NATIVE_POLICY, test-driver calls from the JS thread and
//      another thread, one instance left for the addon's teardown hook; then exit.
//      Node, V8, the Vulkan loader and the drivers leak at exit by design (singletons,
//      LLVM's JIT, dlopen'ed libraries), so a leak counts only when the frame that
//      allocated it (the first below malloc/new, skipping libstdc++) is in vkalloc.node.
//      LSan suppressions cannot express that: a `leak:` rule matches a module anywhere
//      in the stack, and every block vkalloc allocates in a driver callback has the
//      driver and the loader below it, so suppressing them would hide exactly those.
//      The other leaks are summarised by module and ignored.
//   5. jest, whole suite, with the ASan and UBSan runtimes preloaded (LD_PRELOAD: ASan
//      must be the first library loaded, before node's own allocations) and
//      detect_leaks=0: jest workers are killed or exit with V8, the loader and the
//      drivers still holding memory by design, which would report thousands of leaks
//      unrelated to vkalloc (step 4 covers leaks with a process that frees everything).
//      UBSan: print_stacktrace=1:halt_on_error=1. Property tests run 0.4x their usual
//      number of cases (VKALLOC_FC_RUNS; the native paths are what matters here).
//      Child processes that are not node (Chromium for the HTML report, cc, the C
//      oracle) get no preloaded runtimes (test/helpers/asan-addon-check.ts): they never
//      load vkalloc.node, and Chromium hangs with ASan's malloc preloaded.
// ASan/LSan reports go to build-asan/logs/<stage>/ (log_path), not only to stderr: a
// report from a jest worker at exit, or from a process a test spawns, does not
// necessarily fail a test. GCC's UBSan runtime ignores log_path and writes to stderr,
// so each stage's stderr is kept (logs/<stage>/stderr.txt) and searched for
// "file:line:col: runtime error:" (UBSan in a child process whose stderr a test
// captures shows as that child's exit status 1: halt_on_error=1).
// The script fails if any report was found, if jest failed, if the LSan workload found
// a leak allocated by vkalloc.node, or if the ASan build was not the one loaded; every
// stage runs even after an earlier one failed.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'build-asan');
const CMAKE_OUT = path.join(OUT, 'cmake');
const CONFIG = 'RelWithDebInfo';
const BUILT = path.join(CMAKE_OUT, CONFIG, 'vkalloc.node');
const ADDON = path.join(OUT, 'build', 'Release', 'vkalloc.node');
const LOGS = path.join(OUT, 'logs');
const CHECK_HELPER = '<rootDir>/test/helpers/asan-addon-check.ts';
const LSAN_DONE = 'LeakSanitizer workload finished';

function log(message) {
  process.stderr.write(`test:asan: ${message}\n`);
}

class Failure extends Error {}

function run(command, args, options = {}) {
  return childProcess.spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
}

function runOrFail(what, command, args, options) {
  const r = run(command, args, options);
  if (r.error) throw new Failure(`${what}: could not run ${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Failure(`${what} failed (${r.signal ? `signal ${r.signal}` : `exit status ${r.status}`})`);
  return r;
}

/**
 * Runs a command showing its output as it comes, and keeps its stderr in
 * build-asan/logs/<stage>/stderr.txt: GCC's standalone UBSan runtime ignores log_path
 * and reports only on stderr, so that is where its reports are looked for.
 */
function runTee(command, args, options, stage) {
  return new Promise((resolve) => {
    const child = childProcess.spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => { process.stdout.write(d); out.push(d); });
    child.stderr.on('data', (d) => { process.stderr.write(d); err.push(d); });
    child.on('error', (error) => resolve({ error, status: null, signal: null, stdout: '', stderr: '' }));
    child.on('close', (status, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      fs.writeFileSync(path.join(LOGS, stage, 'stderr.txt'), stderr);
      resolve({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
  });
}

/** Runs `fn`, logs how long it took, returns its result. */
const timings = [];
async function timed(what, fn) {
  const start = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    timings.push([what, s]);
    log(`${what}: ${s.toFixed(1)} s`);
  }
}

/** The full path of a GCC runtime library, or a Failure naming the package to install. */
function gccRuntime(name) {
  const r = run('gcc', [`-print-file-name=${name}`], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const file = r.status === 0 ? r.stdout.trim() : '';
  if (!path.isAbsolute(file) || !fs.existsSync(file)) {
    throw new Failure(`gcc does not know ${name} (got "${file}"): install gcc's sanitizer runtimes (Debian: libasan8 libubsan1, with gcc 12)`);
  }
  return fs.realpathSync(file);
}

function build() {
  fs.mkdirSync(path.dirname(ADDON), { recursive: true });
  runOrFail('building the ASan/UBSan addon', path.join(ROOT, 'node_modules', '.bin', 'cmake-js'),
    ['compile', '--out', path.relative(ROOT, CMAKE_OUT), '--config', CONFIG, '--CDVKALLOC_SANITIZE=ON', '--CDVKALLOC_TEST_HOOKS=ON']);
  if (!fs.existsSync(BUILT)) throw new Failure(`the build finished without producing ${path.relative(ROOT, BUILT)}`);
  // Only an instrumented build needs the ASan runtime: a build without VKALLOC_SANITIZE
  // (e.g. a stale cache) would pass everything while checking nothing.
  const deps = run('readelf', ['-d', BUILT], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (deps.status !== 0 || !/NEEDED.*libasan/.test(deps.stdout) || !/NEEDED.*libubsan/.test(deps.stdout)) {
    throw new Failure(`${path.relative(ROOT, BUILT)} is not linked against libasan and libubsan: VKALLOC_SANITIZE did not take effect`);
  }
  fs.rmSync(ADDON, { force: true });
  fs.symlinkSync(path.relative(path.dirname(ADDON), BUILT), ADDON);
}

/** Sanitizer settings for one stage; its reports go to build-asan/logs/<stage>/. */
function sanitizerEnv({ leaks, stage }) {
  const logs = path.join(LOGS, stage);
  fs.rmSync(logs, { recursive: true, force: true });
  fs.mkdirSync(logs, { recursive: true });
  const preload = [gccRuntime('libasan.so'), gccRuntime('libubsan.so')];
  if (process.env.LD_PRELOAD) preload.push(process.env.LD_PRELOAD);
  const asan = [
    `detect_leaks=${leaks ? 1 : 0}`,
    'halt_on_error=1',
    // Tests ask for impossible sizes on purpose and expect NULL, as malloc gives.
    'allocator_may_return_null=1',
    'detect_stack_use_after_return=1',
    'check_initialization_order=1',
    'strict_init_order=1',
    `log_path=${path.join(logs, 'asan')}`,
    'log_exe_name=1',
    // The module of every frame, to attribute leaks (%m; no ':' may appear in options).
    'stack_trace_format="    #%n %p %F %L <%m>"',
  ];
  if (leaks) asan.push('fast_unwind_on_malloc=0', 'malloc_context_size=40');
  return {
    ...process.env,
    LD_PRELOAD: preload.join(':'),
    VKALLOC_PREBUILD: OUT,
    VKALLOC_ASAN_ADDON: fs.realpathSync(BUILT),
    VKALLOC_ASAN_PRELOAD: preload.slice(0, 2).join(':'),  // test/helpers/asan-addon-check.ts keeps them from non-node children
    ASAN_OPTIONS: asan.join(':'),
    UBSAN_OPTIONS: ['print_stacktrace=1', 'halt_on_error=1', `log_path=${path.join(logs, 'ubsan')}`, 'log_exe_name=1'].join(':'),
    LSAN_OPTIONS: 'report_objects=0:max_leaks=0',
  };
}

/** The node process must map the ASan build's vkalloc.node, and no other. */
function probeLoadedAddon(env) {
  const probe = `
    require(${JSON.stringify(path.join(ROOT, 'dist', 'native', 'binding.js'))});
    const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
    const files = [...new Set(maps.split('\\n').filter((l) => l.endsWith('.node')).map((l) => l.slice(l.indexOf('/'))))];
    process.stdout.write(JSON.stringify(files));`;
  const r = run(process.execPath, ['-e', probe], { env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Failure('the probe process could not load the addon');
  const files = JSON.parse(r.stdout).filter((f) => path.basename(f) === 'vkalloc.node');
  if (files.length !== 1 || files[0] !== env.VKALLOC_ASAN_ADDON) {
    throw new Failure(`VKALLOC_PREBUILD did not select the ASan build: the process mapped ${JSON.stringify(files)}, ` +
      `expected ${env.VKALLOC_ASAN_ADDON}`);
  }
}

// ---------------------------------------------------------------------------
// Reading sanitizer logs.

function readLogs(stage) {
  const dir = path.join(LOGS, stage);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).sort().map((name) => ({ name: `${stage}/${name}`, text: fs.readFileSync(path.join(dir, name), 'utf8') }));
}

/** Frames of a stack as [{ text, module }]. */
function frames(lines) {
  return lines.filter((l) => /^\s+#\d+ /.test(l)).map((text) => {
    const m = /<(<null>|[^<>]*)>\s*$/.exec(text);  // %m prints <null> for an unknown module
    return { text: text.trim(), module: m ? m[1] : '' };
  });
}

const ALLOCATOR_FRAME = /\b(malloc|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|strdup|strndup|operator new|__interceptor_\w+)\b/;

function isVkallocFrame(f) {
  return path.basename(f.module) === 'vkalloc.node' || f.text.includes(`${path.join(ROOT, 'native')}/`);
}

/** The frame that asked for the memory: the first below the allocator and libstdc++. */
function allocatingFrame(stack) {
  return stack.find((f) => !/libasan|liblsan/.test(f.module) && !ALLOCATOR_FRAME.test(f.text) && !/libstdc\+\+/.test(f.module));
}

/** Splits a LeakSanitizer report into its leaks. */
function parseLeaks(text) {
  const leaks = [];
  const blocks = text.split(/\n(?=(?:Direct|Indirect) leak of )/);
  for (const block of blocks) {
    const head = /^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\)/.exec(block);
    if (!head) continue;
    const stack = frames(block.split('\n'));
    leaks.push({ kind: head[1], bytes: Number(head[2]), objects: Number(head[3]), stack, text: block.trim() });
  }
  return leaks;
}

/** Errors (not leaks) in a log: ASan and UBSan reports. */
function errorReports(text) {
  const out = [];
  // "==<pid>==ERROR: ..." or, with log_exe_name, "==node==<pid>==ERROR: ...".
  for (const m of text.matchAll(/^(?:==(?:[^=\s]+==)?\d+==ERROR: AddressSanitizer: .*|\S+:\d+:\d+: runtime error: .*)$/gm)) {
    if (!/LeakSanitizer/.test(m[0])) out.push(m[0]);
  }
  return out;
}

function printReport(name, text, maxLines = 60) {
  const lines = text.trimEnd().split('\n');
  process.stderr.write(`\n----- ${name} -----\n${lines.slice(0, maxLines).join('\n')}\n`);
  if (lines.length > maxLines) process.stderr.write(`... (${lines.length - maxLines} more lines in build-asan/logs/${name})\n`);
}

/** Fails on every ASan/UBSan error report in the logs; returns the reports' file names. */
function checkErrors(stage) {
  const bad = [];
  for (const { name, text } of readLogs(stage)) {
    const errors = errorReports(text);
    if (errors.length === 0) continue;
    const inVkalloc = frames(text.split('\n')).some(isVkallocFrame);
    log(`${name}: ${errors.length} report(s), the first: ${errors[0].replace(/^==(?:[^=\s]+==)?\d+==/, '')}` +
      (inVkalloc ? ' (vkalloc.node frames in the report)' : ' (no vkalloc.node frame)'));
    if (name.endsWith('stderr.txt')) {
      // A whole run's output: only the UBSan reports in it (the line and its stack).
      const lines = text.split('\n');
      const at = lines.findIndex((l) => l.includes(errors[0]));
      printReport(name, lines.slice(at, at + 25).join('\n'));
    } else {
      printReport(name, text);
    }
    bad.push(name);
  }
  return bad;
}

// ---------------------------------------------------------------------------
// Step 4: the LeakSanitizer workload (runs in a child: node --expose-gc scripts/test-asan.js --lsan-workload).

function lsanWorkload() {
  const dist = (name) => require(path.join(ROOT, 'dist', name));
  const { createInstance, HostAllocator, AlignedHeaderPolicy, NATIVE_POLICY } = dist('index.js');
  const { bridgeOf } = dist('allocator/host-allocator.js');
  const native = dist('native/binding.js').default;
  const { findSwiftshader } = dist('vulkan/driver.js');
  const driverCalls = native.__testDriver;

  function vulkan(driver, allocator, destroy) {
    const opt = allocator ? { allocator } : undefined;
    const instance = createInstance({ applicationName: 'vkalloc lsan', driver }, opt);
    const gpu = instance.defaultPhysicalDevice();
    const family = Math.max(0, gpu.findQueueFamily('compute'));
    const device = gpu.createDevice({ queues: [{ family }] }, opt);
    const buffer = device.createBuffer({ size: 1 << 16, usage: ['storage', 'transfer-dst'] }, opt);
    const req = buffer.memoryRequirements;
    const memory = device.allocateMemory({ size: req.size, memoryType: gpu.findMemoryType(req.memoryTypeBits, ['host-visible', 'host-coherent']) }, opt);
    buffer.bindMemory(memory, 0);
    new Uint32Array(memory.map()).fill(7);
    memory.unmap();
    const fence = device.createFence({}, opt);
    device.queue(0).submit([{}], fence);
    fence.wait(5e9);
    device.waitIdle();
    if (destroy) instance.destroy();
    return instance;
  }

  function testDriver(allocator) {
    const bridge = bridgeOf(allocator);
    let p = driverCalls.allocate(bridge, 100, 64, 1);
    p = driverCalls.reallocate(bridge, p, 5000, 64, 1);
    const mine = [driverCalls.allocate(bridge, 48, 8, 1), driverCalls.allocate(bridge, 70000, 4096, 1)];
    const made = driverCalls.offThread(bridge, 3, 256, 64, mine);
    driverCalls.free(bridge, p);
    driverCalls.free(bridge, driverCalls.reallocate(bridge, made[0], 512, 64, 1));
    driverCalls.free(bridge, made[1]);
    driverCalls.offThread(bridge, 0, 0, 1, [made[2]]);
    allocator.stats();
  }

  const drivers = ['lavapipe', ...(findSwiftshader() ? ['swiftshader'] : [])];
  for (const driver of drivers) {
    const policy = new AlignedHeaderPolicy();
    const allocator = new HostAllocator(policy);
    vulkan(driver, allocator, true);
    vulkan(driver, new HostAllocator(NATIVE_POLICY), true);
    vulkan(driver, null, true);
    if (allocator.stats().liveCount !== 0) throw new Error(`${driver}: blocks left live after destroy`);
    policy.releaseAll();
  }
  testDriver(new HostAllocator(new AlignedHeaderPolicy()));
  testDriver(new HostAllocator(NATIVE_POLICY));
  // Left for the addon's teardown hook (native/bridge/addon.cc) to destroy at exit.
  vulkan('lavapipe', new HostAllocator(new AlignedHeaderPolicy()), false);
  global.gc?.();
  process.stdout.write(`${LSAN_DONE} on ${drivers.join(', ')}\n`);
}

async function lsanRun() {
  const env = sanitizerEnv({ leaks: true, stage: 'lsan' });
  const r = await runTee(process.execPath, ['--expose-gc', __filename, '--lsan-workload'], { env }, 'lsan');
  const finished = r.stdout.includes(LSAN_DONE);
  const leaks = [];
  for (const { text } of readLogs('lsan')) leaks.push(...parseLeaks(text));
  const ours = [];
  const others = new Map();
  for (const leak of leaks) {
    const frame = allocatingFrame(leak.stack);
    if (frame && isVkallocFrame(frame)) ours.push(leak);
    else {
      // <null>: a library unloaded before exit (drivers are dlclose'd at vkDestroyInstance).
      const module = (frame && (frame.module === '<null>' ? 'unloaded library' : path.basename(frame.module))) || '?';
      const o = others.get(module) ?? { leaks: 0, bytes: 0 };
      o.leaks++;
      o.bytes += leak.bytes;
      others.set(module, o);
    }
  }
  const summary = [...others].sort((a, b) => b[1].bytes - a[1].bytes).map(([m, o]) => `${m} ${o.leaks} (${o.bytes} B)`).join(', ');
  log(`LeakSanitizer: ${leaks.length} leak records; allocated by vkalloc.node: ${ours.length}; ignored, allocated elsewhere: ${summary || 'none'}`);
  for (const leak of ours) printReport('leak allocated by vkalloc.node', leak.text, 40);
  const errors = checkErrors('lsan');
  // Leaks anywhere make the process exit with ASan's exitcode (1): judged above instead.
  const ok = !r.error && finished && (r.status === 0 || (r.status === 1 && leaks.length > 0));
  if (!ok) throw new Failure(`the LeakSanitizer workload failed (${r.error ? r.error.message : r.signal ?? `exit status ${r.status}`}${finished ? '' : ', did not finish'})`);
  if (ours.length > 0 || errors.length > 0) {
    throw new Failure(`LeakSanitizer run: ${ours.length} leak(s) allocated by vkalloc.node, ${errors.length} sanitizer report(s)`);
  }
}

async function jestRun(jestArgs) {
  const env = sanitizerEnv({ leaks: false, stage: 'jest' });
  // Fewer property-test runs than usual: the point here is the native paths, not the search.
  if (env.VKALLOC_FC_RUNS === undefined) env.VKALLOC_FC_RUNS = '0.4';
  // The helper last: --setupFilesAfterEnv takes a list, and would swallow test paths after it.
  const r = await runTee(process.execPath, [path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci',
    ...jestArgs, '--setupFilesAfterEnv', CHECK_HELPER], { env }, 'jest');
  const errors = checkErrors('jest');
  const problems = [];
  if (r.error) problems.push(`jest could not run: ${r.error.message}`);
  else if (r.status !== 0) problems.push(`jest failed (${r.signal ?? `exit status ${r.status}`})`);
  if (errors.length > 0) problems.push(`${errors.length} sanitizer report(s) in build-asan/logs: ${errors.join(', ')}`);
  if (problems.length > 0) throw new Failure(problems.join('; '));
}

async function main(argv) {
  if (argv[0] === '--lsan-workload') return lsanWorkload();
  // Our three flags; everything else (after an optional `--`) goes to jest:
  // `npm run test:asan -- test/allocator/property.test.ts -t overlap`.
  const OWN = ['--skip-setup', '--skip-lsan', '--skip-jest'];
  const dash = argv.indexOf('--');
  const before = dash < 0 ? argv : argv.slice(0, dash);
  const flags = new Set(before.filter((a) => OWN.includes(a)));
  const jestArgs = [...before.filter((a) => !OWN.includes(a)), ...(dash < 0 ? [] : argv.slice(dash + 1))];
  const total = process.hrtime.bigint();
  const failures = [];
  // Every stage runs even when an earlier one failed, so one run shows everything.
  const stage = async (what, fn) => {
    try {
      await timed(what, fn);
    } catch (err) {
      if (!(err instanceof Failure)) throw err;
      log(`FAILED: ${err.message}`);
      failures.push(err.message);
    }
  };
  try {
    if (!flags.has('--skip-setup')) await timed('setup (scripts/setup.js --for-tests)', () => runOrFail('setup', process.execPath, [path.join(ROOT, 'scripts', 'setup.js'), '--for-tests']));
    await timed('ASan/UBSan build (cmake-js, incremental)', build);
    probeLoadedAddon(sanitizerEnv({ leaks: false, stage: 'probe' }));
    if (checkErrors('probe').length > 0) throw new Failure('sanitizer reports from merely loading the addon');
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    log(`FAILED: ${err.message}`);
    return 1;
  }
  if (!flags.has('--skip-lsan')) await stage('LeakSanitizer workload', lsanRun);
  if (!flags.has('--skip-jest')) await stage('jest under ASan/UBSan', () => jestRun(jestArgs));
  const seconds = (Number(process.hrtime.bigint() - total) / 1e9).toFixed(1);
  log(`timings: ${timings.map(([what, s]) => `${what} ${s.toFixed(1)} s`).join('; ')}; ${seconds} s in all`);
  if (failures.length > 0) {
    log(`FAILED (${failures.length}): ${failures.join(' | ')}; reports in build-asan/logs/`);
    return 1;
  }
  log('clean: no AddressSanitizer or UndefinedBehaviorSanitizer reports, no leak allocated by vkalloc.node (logs: build-asan/logs/)');
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code ?? 0; }, (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  });
}
