#!/usr/bin/env node
// One-step, idempotent set-up for vkalloc: `npm run demo` and `npm test` call this
// first, so a fresh Debian 12 machine needs nothing else. Each step checks whether
// it is already done and returns silently if so, which keeps the common path
// (everything built) well under a second.
//
//   node scripts/setup.js               system packages, npm deps, native addon, TypeScript
//   node scripts/setup.js --for-tests   also the SwiftShader Vulkan driver in .cache/swiftshader
//   node scripts/setup.js --rebuild     rebuild the addon and TypeScript even if up to date
//
// Only Node's built-in modules: this runs before node_modules exists.
'use strict';

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

// Vulkan loader + drivers + headers to build and run, plus the C++ toolchain cmake-js drives.
const DEBIAN_PACKAGES = [
  'libvulkan-dev', 'mesa-vulkan-drivers', 'vulkan-validationlayers', 'vulkan-tools', 'glslang-tools',
  'cmake', 'g++', 'make',
];

// Only for tests: headless Chromium, which the HTML report test drives (playwright-core);
// clang-format: npm test's lint step checks native/ against .clang-format.
const TEST_DEBIAN_PACKAGES = ['chromium', 'clang-format'];

// SwiftShader (a CPU Vulkan implementation) ships inside Debian's chromium-common.
const SWIFTSHADER_DIR = path.join(ROOT, '.cache', 'swiftshader');
const SWIFTSHADER_ICD = path.join(SWIFTSHADER_DIR, 'vk_swiftshader_icd.json');
const SWIFTSHADER_LIB = path.join(SWIFTSHADER_DIR, 'libvk_swiftshader.so');
const SWIFTSHADER_DEB = 'chromium-common';
const SWIFTSHADER_DEB_ICD = 'usr/lib/chromium/vk_swiftshader_icd.json';

const NATIVE_OUTPUT = path.join(ROOT, 'build', 'Release', 'vkalloc.node');
// The same CMake build makes the Vulkan layer (native/layer/) and its manifest.
const LAYER_OUTPUTS = ['libVkLayer_vkalloc.so', 'VkLayer_vkalloc.json'].map((f) => path.join(ROOT, 'build', 'Release', f));
const NATIVE_STAMP = path.join(ROOT, 'build', '.vkalloc-src-hash');
const TS_OUTPUT = path.join(ROOT, 'dist', 'index.js');
const TS_STAMP = path.join(ROOT, 'dist', '.vkalloc-src-hash');
const LOCK_FILE = path.join(ROOT, 'package-lock.json');
const NPM_STAMP = path.join(ROOT, 'node_modules', '.vkalloc-lock-hash');

class SetupError extends Error {}

function log(message) {
  // stderr, so that `npm run demo --silent > file` captures only the demo's output.
  process.stderr.write(`setup: ${message}\n`);
}

function warn(message) {
  process.stderr.write(`setup: warning: ${message}\n`);
}

/** Runs a command; returns spawnSync's result. `stdio` defaults to showing the output. */
function run(command, args, options = {}) {
  return childProcess.spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
}

/** Runs a command and throws a SetupError naming `what` if it cannot start or fails. */
function runOrFail(what, command, args, options = {}) {
  const result = run(command, args, options);
  if (result.error) throw new SetupError(`${what}: could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.status}`;
    throw new SetupError(`${what}: \`${[command, ...args].join(' ')}\` ${how}`);
  }
  return result;
}

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function readIfExists(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Every file under `dir`, recursively, as paths relative to ROOT with '/' separators. */
function listFiles(dir) {
  const out = [];
  const walk = (abs) => {
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      const child = path.join(abs, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(path.relative(ROOT, child).split(path.sep).join('/'));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/**
 * A hash of the relative paths and contents of the given files (sorted, so the
 * order the file system lists them in does not matter). Missing files hash as absent,
 * so creating or deleting one also changes the result.
 */
function hashSources(relativePaths) {
  const hash = crypto.createHash('sha256');
  for (const rel of [...new Set(relativePaths)].sort()) {
    const abs = path.join(ROOT, rel);
    const content = fs.existsSync(abs) ? sha256(fs.readFileSync(abs)) : 'absent';
    hash.update(`${rel}\0${content}\n`);
  }
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------
// Root access for apt-get: root itself, else password-less sudo, else none.

let rootPrefixCache;
/** [] when root, ['sudo', '-n'] with password-less sudo, null otherwise. */
function rootPrefix() {
  if (rootPrefixCache === undefined) {
    if (process.getuid && process.getuid() === 0) rootPrefixCache = [];
    else {
      const sudo = run('sudo', ['-n', 'true'], { stdio: 'ignore' });
      rootPrefixCache = !sudo.error && sudo.status === 0 ? ['sudo', '-n'] : null;
    }
  }
  return rootPrefixCache;
}

function runAsRoot(what, args) {
  // `env` sets DEBIAN_FRONTEND past sudo's environment reset (and is harmless as root).
  const [command, ...rest] = [...rootPrefix(), 'env', 'DEBIAN_FRONTEND=noninteractive', ...args];
  return runOrFail(what, command, rest);
}

/** Fresh Docker images (and images that `rm -rf /var/lib/apt/lists/*`) have no package lists. */
function aptListsEmpty() {
  try {
    return !fs.readdirSync('/var/lib/apt/lists').some((name) => name.includes('_Packages'));
  } catch {
    return true;
  }
}

let aptUpdated = false;
function aptUpdate() {
  if (aptUpdated) return;
  log('refreshing package lists (apt-get update) ...');
  runAsRoot('apt-get update', ['apt-get', 'update', '-q']);
  aptUpdated = true;
}

// ---------------------------------------------------------------------------
// Step 1: Debian packages.

/** The packages dpkg does not list as installed, or null when there is no dpkg. */
function missingDebianPackages(packages) {
  const result = run('dpkg-query', ['-W', '-f=${Package}\\t${Status}\\n', ...packages], {
    stdio: ['ignore', 'pipe', 'ignore'],
    encoding: 'utf8',
  });
  if (result.error) return null;
  // Status is "want flag state"; only state "installed" counts ("config-files" is a
  // removed package). Packages dpkg never heard of are simply absent from the output.
  const installed = new Set();
  for (const line of result.stdout.split('\n')) {
    const [name, status = ''] = line.split('\t');
    if (status.split(' ')[2] === 'installed') installed.add(name);
  }
  return packages.filter((name) => !installed.has(name));
}

function ensureDebianPackages(packages) {
  const missing = missingDebianPackages(packages);
  if (missing === null) {
    warn(`not a Debian/Ubuntu system (no dpkg-query); make sure the equivalents of these are installed: ${packages.join(' ')}`);
    return;
  }
  if (missing.length === 0) return;

  const installArgs = ['apt-get', 'install', '-y', '--no-install-recommends', ...missing];
  if (rootPrefix() === null) {
    throw new SetupError(
      `missing Debian packages: ${missing.join(' ')}\n` +
        `Install them (as a user who can) and run again:\n  sudo ${installArgs.join(' ')}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')} ...`);
  if (aptListsEmpty()) aptUpdate();
  try {
    runAsRoot('apt-get install', installArgs);
  } catch (err) {
    // Most often stale package lists (a version that is no longer on the mirror).
    if (aptUpdated) throw err;
    log('apt-get install failed; refreshing package lists and retrying');
    aptUpdate();
    runAsRoot('apt-get install', installArgs);
  }
  const still = missingDebianPackages(missing);
  if (still && still.length > 0) throw new SetupError(`apt-get did not install: ${still.join(' ')}`);
}

// ---------------------------------------------------------------------------
// Step 2 (--for-tests): SwiftShader, a Vulkan driver that runs anywhere, so the
// tests have a real device even on machines without a GPU.

/**
 * Fetches chromium-common's .deb (without installing it: it depends on ~100 other
 * packages) and keeps only SwiftShader's ICD manifest and library. Returns an error
 * message, or null on success.
 */
function fetchSwiftShader() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-swiftshader-'));
  try {
    // As root, apt's download sandbox user (_apt) cannot write to our private temp
    // dir; download as root instead of printing a warning about it.
    const sandbox = process.getuid && process.getuid() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    const download = () =>
      run('apt-get', [...sandbox, '-q', 'download', SWIFTSHADER_DEB], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    let result = download();
    if (!result.error && result.status !== 0 && !aptUpdated && rootPrefix() !== null) {
      // Images that ship with emptied package lists know no candidate version.
      aptUpdate();
      result = download();
    }
    if (result.error) return `could not run apt-get: ${result.error.message}`;
    if (result.status !== 0) {
      const lastLine = (result.stderr || '').trim().split('\n').pop();
      return `apt-get download ${SWIFTSHADER_DEB} failed${lastLine ? `: ${lastLine}` : ''}`;
    }
    const deb = fs.readdirSync(tmp).find((name) => name.endsWith('.deb'));
    if (!deb) return `apt-get download ${SWIFTSHADER_DEB} produced no .deb`;

    const extracted = path.join(tmp, 'x');
    const unpack = run('dpkg', ['-x', path.join(tmp, deb), extracted], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (unpack.error || unpack.status !== 0) return `dpkg -x ${deb} failed: ${unpack.error ? unpack.error.message : unpack.stderr.trim()}`;

    const icdPath = path.join(extracted, SWIFTSHADER_DEB_ICD);
    if (!fs.existsSync(icdPath)) return `${deb} has no ${SWIFTSHADER_DEB_ICD}`;
    const manifest = JSON.parse(fs.readFileSync(icdPath, 'utf8'));
    const libraryPath = manifest.ICD && manifest.ICD.library_path;
    if (typeof libraryPath !== 'string') return `${SWIFTSHADER_DEB_ICD} has no ICD.library_path`;
    // An absolute path names the installed location, i.e. inside the package tree; a
    // relative one is relative to the manifest (that is how the Vulkan loader reads it).
    const library = path.isAbsolute(libraryPath)
      ? path.join(extracted, libraryPath)
      : path.resolve(path.dirname(icdPath), libraryPath);
    if (!fs.existsSync(library)) return `${deb} has no ${libraryPath} (named by its ICD manifest)`;

    // The library first and the manifest last, each through a rename, so an
    // interrupted run never leaves a manifest that the "already done" check trusts.
    fs.mkdirSync(SWIFTSHADER_DIR, { recursive: true });
    fs.copyFileSync(library, `${SWIFTSHADER_LIB}.tmp`);
    fs.renameSync(`${SWIFTSHADER_LIB}.tmp`, SWIFTSHADER_LIB);
    // Our own manifest (same file_format_version, api_version and other fields) that
    // points next to itself, so the cache works wherever the repository lives.
    manifest.ICD = { ...manifest.ICD, library_path: `./${path.basename(SWIFTSHADER_LIB)}` };
    fs.writeFileSync(`${SWIFTSHADER_ICD}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    fs.renameSync(`${SWIFTSHADER_ICD}.tmp`, SWIFTSHADER_ICD);
    return null;
  } catch (err) {
    return err.message;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function ensureSwiftShader() {
  if (fs.existsSync(SWIFTSHADER_ICD) && fs.existsSync(SWIFTSHADER_LIB)) return;
  log(`fetching the SwiftShader Vulkan driver (from ${SWIFTSHADER_DEB}) into .cache/swiftshader ...`);
  const error = fetchSwiftShader();
  // Not fatal: tests that need SwiftShader report it as unavailable instead.
  if (error) warn(`SwiftShader not available (${error}); tests that need it will be reported as such`);
}

// ---------------------------------------------------------------------------
// Step 3: npm dependencies, reinstalled whenever package-lock.json changes.

function ensureNodeModules() {
  const lockHash = sha256(fs.readFileSync(LOCK_FILE));
  if (readIfExists(NPM_STAMP) === lockHash) return;
  log('installing npm dependencies (npm ci) ...');
  // stderr is held back so that the fallback below is not preceded by npm's long
  // usage text; it is shown when npm ci fails for any other reason.
  const ci = run('npm', ['ci'], { stdio: ['inherit', 'inherit', 'pipe'], encoding: 'utf8' });
  if (ci.error) throw new SetupError(`npm ci: could not run npm: ${ci.error.message}`);
  if (ci.status !== 0) {
    if (!/EUSAGE|in sync/.test(ci.stderr)) {
      process.stderr.write(ci.stderr);
      throw new SetupError(`npm ci exited with status ${ci.status}`);
    }
    // npm >= 11 rejects a lock file that lacks other platforms' optional packages
    // (e.g. @unrs/resolver-binding-darwin-*), which a registry mirror that only
    // carries Linux packages produces. npm install accepts the same lock file and
    // installs exactly its versions; --no-save leaves package-lock.json alone.
    log('npm ci rejected package-lock.json (out of sync); installing with npm install --no-save ...');
    runOrFail('npm install', 'npm', ['install', '--no-save']);
  }
  fs.writeFileSync(NPM_STAMP, `${lockHash}\n`);
}

// ---------------------------------------------------------------------------
// Steps 4 and 5: build outputs, rebuilt when a hash of their sources changes.

/** Runs `build` unless `output` (a path or several) exists and `stamp` holds `hash`; then records `hash`. */
function ensureBuilt({ what, output, stamp, hash, force, build }) {
  const outputs = [].concat(output);
  if (!force && outputs.every((o) => fs.existsSync(o)) && readIfExists(stamp) === hash) return;
  log(`${what} ...`);
  // Forget the old stamp first: a build that fails halfway must not count as done
  // if the sources are later put back the way they were.
  fs.rmSync(stamp, { force: true });
  build();
  const missing = outputs.find((o) => !fs.existsSync(o));
  if (missing) throw new SetupError(`${what}: finished without producing ${path.relative(ROOT, missing)}`);
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, `${hash}\n`);
}

function localBin(name) {
  return path.join(ROOT, 'node_modules', '.bin', name);
}

function ensureNativeAddon(force) {
  ensureBuilt({
    what: 'building native addon (cmake-js)',
    output: [NATIVE_OUTPUT, ...LAYER_OUTPUTS],
    stamp: NATIVE_STAMP,
    // The lock file pins node-addon-api and cmake-js, whose headers and flags the build uses.
    hash: hashSources(['CMakeLists.txt', 'package-lock.json', ...listFiles(path.join(ROOT, 'native'))]),
    force,
    // Development builds carry the test driver (native/test); published binaries do not.
    // configure then build: `cmake-js compile` keeps an existing cache and its options.
    build: () => {
      runOrFail('configuring native addon', localBin('cmake-js'), ['configure', '--out', 'build', '--CDVKALLOC_TEST_HOOKS=ON']);
      runOrFail('building native addon', localBin('cmake-js'), ['build', '--out', 'build']);
    },
  });
}

function ensureTypeScript(force) {
  ensureBuilt({
    what: 'compiling TypeScript (tsc)',
    output: TS_OUTPUT,
    stamp: TS_STAMP,
    hash: hashSources(['tsconfig.json', 'tsconfig.build.json', 'scripts/esm-entries.js', ...listFiles(path.join(ROOT, 'lib'))]),
    force,
    // From an empty dist/: files left by sources that were moved or deleted would
    // otherwise still load (and still be packed).
    build: () => {
      fs.rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
      runOrFail('compiling TypeScript', localBin('tsc'), ['-p', 'tsconfig.build.json']);
      runOrFail('writing the ES module entries', process.execPath, [path.join(ROOT, 'scripts', 'esm-entries.js')]);
    },
  });
}

// ---------------------------------------------------------------------------

const USAGE = 'usage: node scripts/setup.js [--for-tests] [--rebuild]';

function main(argv) {
  const flags = new Set(argv);
  for (const flag of flags) {
    if (flag !== '--for-tests' && flag !== '--rebuild') {
      process.stderr.write(`setup: unknown option ${flag}\n${USAGE}\n`);
      return 2;
    }
  }
  try {
    ensureDebianPackages(flags.has('--for-tests') ? [...DEBIAN_PACKAGES, ...TEST_DEBIAN_PACKAGES] : DEBIAN_PACKAGES);
    if (flags.has('--for-tests')) ensureSwiftShader();
    ensureNodeModules();
    ensureNativeAddon(flags.has('--rebuild'));
    ensureTypeScript(flags.has('--rebuild'));
    return 0;
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    process.stderr.write(`setup: error: ${err.message}\n`);
    return 1;
  }
}

// Tests can require this file for the cache location without running anything.
module.exports = { SWIFTSHADER_ICD, SWIFTSHADER_LIB, LAYER_OUTPUTS };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
