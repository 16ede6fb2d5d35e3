// Where the package's own files are, computed once. Sources run from lib/ (ts-jest)
// and compiled code from dist/, at any depth: the root is the nearest folder above
// this file that holds vkalloc's package.json, so moving a file cannot break a path.
import * as fs from 'fs';
import * as path from 'path';

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'vkalloc') return dir;
      } catch {
        // not ours (or unreadable): keep looking upwards
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`vkalloc: no package.json of vkalloc above ${start}`);
  }
}

/** The package root: package.json, dist/, shaders/, prebuilds/ or build/ are below it. */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** The compiled JavaScript (dist/), which child processes and workers run. */
export const DIST_DIR = path.join(PACKAGE_ROOT, 'dist');

/** A path below the package root. */
export function packagePath(...parts: string[]): string {
  return path.join(PACKAGE_ROOT, ...parts);
}
