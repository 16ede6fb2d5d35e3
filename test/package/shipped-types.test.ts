// The shipped declarations (dist/**/*.d.ts) compile in a plain
// TypeScript project that has no @types/node (not a dependency of vkalloc), with or
// without the ESNext.Disposable lib: they used Node's Buffer and Symbol.dispose.
// The package is copied outside the repository, so no node_modules/@types is found.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function copyDeclarations(from: string, to: string): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copyDeclarations(path.join(from, entry.name), path.join(to, entry.name));
    else if (entry.name.endsWith('.d.ts')) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(path.join(from, entry.name), path.join(to, entry.name));
    }
  }
}

const USE = `
import { AlignedHeaderPolicy, createInstance, HostAllocator, Instance, SWEEP_TARGETS, sweep, Trace, VulkanError } from 'vkalloc';
const allocator = new HostAllocator(new AlignedHeaderPolicy());
const instance: Instance = createInstance({ driver: 'lavapipe' }, { allocator });
const device = instance.defaultPhysicalDevice().createDevice({ queues: [{ family: 0 }] });
const bytes: Uint8Array = device.createPipelineCache().data();
const buffer = device.createBuffer({ size: bytes.length + 64, usage: ['storage', 'transfer-dst'] });
buffer[Symbol.dispose]();
allocator.startTrace();
const trace: Trace = allocator.stopTrace();
const failed: VulkanError | null = null;
void sweep('fence', { timeout: 5 }).then((r) => r.totals.hangs + trace.count);
void [failed, SWEEP_TARGETS];
instance.destroy();
`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-types-'));
  const pkg = path.join(dir, 'node_modules', 'vkalloc');
  copyDeclarations(path.join(ROOT, 'dist'), path.join(pkg, 'dist'));
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'vkalloc', types: 'dist/index.d.ts' }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tsc(lib: string[], source: string): { status: number | null; output: string } {
  fs.writeFileSync(path.join(dir, 'main.ts'), source);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', lib, types: [], strict: true, noEmit: true, skipLibCheck: false },
    files: ['main.ts'],
  }));
  const r = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

test('no @types/node is visible from the project', () => {
  expect(tsc(['ES2022'], 'const b = Buffer.alloc(1);\n').output).toMatch(/Cannot find name 'Buffer'/);
});

test.each([[['ES2020']], [['ES2022']]])('they compile with lib %j and types []', (lib) => {
  expect(tsc(lib, USE)).toEqual({ status: 0, output: '' });
});

test('with ESNext.Disposable, `using` takes vkalloc objects', () => {
  const source = `import { createInstance } from 'vkalloc';\n{\n  using instance = createInstance({ driver: 'lavapipe' });\n  void instance.physicalDevices();\n}\n`;
  expect(tsc(['ES2022', 'ESNext.Disposable'], source)).toEqual({ status: 0, output: '' });
});

test('the declarations are really read: a wrong call is a type error', () => {
  const r = tsc(['ES2022'], `import { createInstance } from 'vkalloc';\ncreateInstance({ driver: 42 });\n`);
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(/main\.ts\(2,18\): error TS2322/);
});
