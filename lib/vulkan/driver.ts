// Which Vulkan driver (ICD) an instance uses. The choice becomes VK_DRIVER_FILES /
// VK_ICD_FILENAMES for the duration of vkCreateInstance (native/vulkan/instance.cc), which
// is when the loader enumerates drivers.
import * as fs from 'fs';
import * as path from 'path';
import { packagePath } from '../native/paths';

export type DriverChoice = 'auto' | 'lavapipe' | 'swiftshader' | (string & {});

export interface DriverSelection {
  choice: DriverChoice;
  /** ICD manifests handed to the loader; null: the loader's own search (every installed driver). */
  icdFiles: string[] | null;
}

const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armhf' };

/** Where the loader looks for ICD manifests on Linux. */
export function icdSearchDirs(): string[] {
  const xdgData = (process.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const xdgConfig = (process.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  const dirs = [...xdgConfig, '/etc', ...xdgData].map((d) => path.join(d, 'vulkan', 'icd.d'));
  return [...new Set(dirs)];
}

// Sweeps create an instance per point, thousands a second: what was found or checked
// once is reused while the search path and the file stay the same.
let lavapipeFound: { dirs: string; icd: string } | null = null;
const manifestsChecked = new Map<string, string>();

export function findLavapipe(): string | null {
  const dirs = icdSearchDirs();
  const key = dirs.join(':');
  if (lavapipeFound?.dirs === key && fs.existsSync(lavapipeFound.icd)) return lavapipeFound.icd;
  const icd = searchLavapipe(dirs);
  lavapipeFound = icd === null ? null : { dirs: key, icd };
  return icd;
}

function searchLavapipe(dirs: string[]): string | null {
  const preferred = `lvp_icd.${ARCH[process.arch] ?? process.arch}.json`;
  for (const dir of dirs) {
    const exact = path.join(dir, preferred);
    if (fs.existsSync(exact)) return exact;
  }
  for (const dir of dirs) {
    const any = safeList(dir).find((f) => /^lvp_icd\..*\.json$/.test(f));
    if (any) return path.join(dir, any);
  }
  return null;
}

/** The project's cache (filled by `node scripts/setup.js --for-tests`), then Chromium's copy. */
export function swiftshaderCandidates(): string[] {
  const fromEnv = process.env.VKALLOC_SWIFTSHADER_ICD;
  return [
    ...(fromEnv ? [fromEnv] : []),
    packagePath('.cache', 'swiftshader', 'vk_swiftshader_icd.json'),
    '/usr/lib/chromium/vk_swiftshader_icd.json',
  ];
}

export function findSwiftshader(): string | null {
  return swiftshaderCandidates().find((f) => fs.existsSync(f)) ?? null;
}

export function resolveDriver(choice: DriverChoice): DriverSelection {
  switch (choice) {
    case 'auto':
      return { choice, icdFiles: null };
    case 'lavapipe': {
      const icd = findLavapipe();
      if (!icd) {
        throw new Error(`lavapipe's ICD manifest (lvp_icd.*.json) was not found in ${icdSearchDirs().join(', ')}: ` +
          'install it with: apt-get install mesa-vulkan-drivers');
      }
      return { choice, icdFiles: [icd] };
    }
    case 'swiftshader': {
      const icd = findSwiftshader();
      if (!icd) {
        throw new Error(`SwiftShader's ICD manifest was not found (looked at ${swiftshaderCandidates().join(', ')}): ` +
          'run `node scripts/setup.js --for-tests` to extract it from Debian\'s chromium-common, ' +
          'or set VKALLOC_SWIFTSHADER_ICD to a vk_swiftshader_icd.json');
      }
      return { choice, icdFiles: [icd] };
    }
    default: {
      if (!choice.endsWith('.json')) {
        throw new RangeError(`Expected 'auto', 'lavapipe', 'swiftshader' or a path to an ICD .json for driver but received ${JSON.stringify(choice)}`);
      }
      const icd = path.resolve(choice);
      let stat: fs.Stats | undefined;
      try {
        stat = fs.statSync(icd);
      } catch {
        // (As existsSync: any error means not there.)
      }
      if (!stat) throw new Error(`The ICD manifest given as driver does not exist: ${icd}`);
      const version = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      if (manifestsChecked.get(icd) !== version) {
        checkManifest(icd);
        manifestsChecked.set(icd, version);
      }
      return { choice, icdFiles: [icd] };
    }
  }
}

/** Larger than any ICD manifest (a few hundred bytes): not read whole. */
const MAX_MANIFEST_BYTES = 1 << 20;

/**
 * Checks an ICD manifest the way the loader will read it, so that a bad one is named
 * with what is wrong: the loader reports a file that is not JSON as
 * VK_ERROR_OUT_OF_HOST_MEMORY, and one without a usable library as
 * VK_ERROR_INCOMPATIBLE_DRIVER, without a word about the file.
 */
export function checkManifest(icd: string): void {
  const bad: (what: string) => never = (what) => {
    throw new Error(`Expected an ICD manifest (a JSON file with ICD.library_path) for driver but received ${icd}: ${what}`);
  };
  let text: string;
  let fd: number;
  try {
    fd = fs.openSync(icd, 'r');
  } catch (e) {
    return bad(`it cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) bad('it is not a file');
    const head = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, 0);
    if (head.toString('latin1') === '\x7fELF') bad('it is a shared library (ELF), not the JSON manifest that names one');
    if (stat.size > MAX_MANIFEST_BYTES) bad(`it has ${stat.size} bytes, far more than a manifest`);
    text = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // (Not the parser's message: it quotes the file, which may hold anything.)
    bad('it is not JSON');
  }
  const entry: unknown = (value as { ICD?: unknown } | null)?.ICD;
  if (typeof entry !== 'object' || entry === null) return bad('it has no "ICD" object');
  const library: unknown = (entry as { library_path?: unknown }).library_path;
  if (typeof library !== 'string' || library === '') return bad('it has no "ICD.library_path" string');
  if (typeof (value as { file_format_version?: unknown }).file_format_version !== 'string') bad('it has no "file_format_version" string');
  // A bare file name is searched for by dlopen; a path is relative to the manifest.
  if (library.includes('/')) {
    const resolved = path.resolve(path.dirname(icd), library);
    if (!fs.existsSync(resolved)) bad(`its ICD.library_path names a library that does not exist: ${resolved}`);
  }
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}
