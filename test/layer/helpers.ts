// Shared by the layer tests: the C fixture programs (test/fixtures/layer/), compiled with
// `cc` once per content into a cache directory, and a CLI runner that captures output.
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CliOutput, main } from '../../lib/cli/main';
import { findLavapipe, findSwiftshader } from '../../lib/vulkan/driver';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'layer');
export const SHADER = path.join(ROOT, 'shaders', 'transform.spv');

/** Path of the compiled fixture `name` (test/fixtures/layer/<name>.c), linked to the system loader. */
export function fixture(name: string): string {
  const source = path.join(FIXTURES, `${name}.c`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(source)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'vkalloc-layer-fixtures');
  const out = path.join(dir, `${name}-${hash}`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync('cc', ['-std=c11', '-O1', '-Wall', '-Werror', '-o', tmp, source, '-lvulkan'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`cc ${source} failed (the layer tests need gcc and libvulkan-dev): ${r.error?.message ?? r.stderr}`);
  }
  fs.renameSync(tmp, out);  // atomic: parallel test files may compile the same fixture
  return out;
}

/** VK_DRIVER_FILES / VK_ICD_FILENAMES for a driver of test/helpers/drivers.ts. */
export function driverEnv(driver: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const icd = driver === 'lavapipe' ? findLavapipe() : driver === 'swiftshader' ? findSwiftshader() : path.resolve(driver);
  if (!icd) throw new Error(`${driver} is not installed: run node scripts/setup.js --for-tests`);
  return { ...base, VK_DRIVER_FILES: icd, VK_ICD_FILENAMES: icd, VK_LOADER_DEBUG: 'error' };
}

/** Runs `vkalloc ...args` in this process; returns its status and what it printed. */
export async function cli(args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '', err = '';
  const output: CliOutput = { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } };
  const status = await main(args, output);
  return { status, out, err };
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vkalloc-${prefix}-`));
}
