// The scripts in examples/ are what users copy: each runs here, as a user would run
// it (a child process that requires 'vkalloc' by name, reaching the compiled package
// through its exports), so that none of them rots.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeOnDrivers } from '../helpers/drivers';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');

function runExample(file: string, driver: string, args: string[] = []): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [file, ...args], {
    cwd: os.tmpdir(), encoding: 'utf8', timeout: 120_000, env: { ...process.env, VKALLOC_EXAMPLE_DRIVER: driver },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describeOnDrivers('examples/', ({ driver }) => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-examples-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('custom-policy.js serves the driver and gets every block back', () => {
    const r = runExample(path.join(EXAMPLES, 'custom-policy.js'), driver);
    expect(r.out).toMatch(/live blocks with instance and device: [1-9]\d*/);
    expect(r.out).toContain('live blocks after destroy: 0');
    expect(r.status).toBe(0);
  });

  test('trace-report.js writes an HTML report', () => {
    const html = path.join(tmp, `report-${driver}.html`);
    const r = runExample(path.join(EXAMPLES, 'trace-report.js'), driver, [html]);
    expect(r.status).toBe(0);
    expect(r.out).toContain(`wrote ${html}`);
    expect(fs.readFileSync(html, 'utf8')).toMatch(/^<!DOCTYPE html>/i);
  });

  test('fault-sweep.js fails cleanly and sweeps a buffer', () => {
    const r = runExample(path.join(EXAMPLES, 'fault-sweep.js'), driver);
    expect(r.out).toMatch(/vkCreateInstance (failed with VK_ERROR_OUT_OF_HOST_MEMORY; live blocks left: 0|carried on)/);
    expect(r.out).toMatch(/buffer: \d+ points, \d+ clean failures, 0 crashes, 0 leaky, succeeded at \d+/);
    expect(r.status).toBe(0);
  });

  test('compute.js matches the CPU', () => {
    const r = runExample(path.join(EXAMPLES, 'compute.js'), driver);
    expect(r.out).toContain('prefix sum of 1000000 values matches the CPU');
    expect(r.status).toBe(0);
  });

  test('dispose.ts compiles against the shipped types and runs', () => {
    // Compiled as a user's project would: `vkalloc` resolved through package.json's
    // exports (node16 resolution), the output run with plain node from beside the
    // original, so that it still finds 'vkalloc'.
    const compiled = path.join(EXAMPLES, `.dispose-${driver}.js`);
    const tsc = spawnSync(process.execPath, [
      path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), path.join(EXAMPLES, 'dispose.ts'),
      '--rootDir', EXAMPLES, '--outDir', tmp, '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
      '--lib', 'es2022,esnext.disposable', '--strict', '--types', 'node',
    ], { cwd: ROOT, encoding: 'utf8' });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    fs.copyFileSync(path.join(tmp, 'dispose.js'), compiled);
    try {
      const r = runExample(compiled, driver);
      expect(r.out).toMatch(/buffer needs \d+ bytes of device memory/);
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(compiled, { force: true });
    }
  });
});
