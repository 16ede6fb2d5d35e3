// Stopping a worker in the middle of a vkalloc call must not take the process down.
// Each case runs test/fixtures/terminate-workers.js in a child process, so an abort
// (the bug: node-addon-api re-throwing a C++ exception it cannot throw into a stopping
// environment) shows as a failed test, not as a crashed jest. The child stops workers
// in a loop, at varied points, then creates an instance and a device on its main thread.
// A worker stopped just after a create command succeeded must not lose the object
// (the wrapper is made before the command: native/vulkan/resource.h).
import { spawn } from 'child_process';
import * as path from 'path';
import { describeOnDrivers } from '../helpers/drivers';

const fixture = path.join(__dirname, '..', 'fixtures', 'terminate-workers.js');
const ITERATIONS = 10;

function runFixture(scenario: string, driver: string): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, scenario, driver, String(ITERATIONS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

const SCENARIOS: [string, string][] = [
  ['api', 'looping on API calls (HostAllocator().stats(), loaderStatus(), instanceExtensions())'],
  ['policy', 'inside a TypeScript policy call, at its n-th allocation of vkCreateInstance/vkCreateDevice/...'],
  ['commands', 'looping on Vulkan commands with a TypeScript policy, callback checks and a call-site trace'],
  ['created', 'in the frees that end a create command that succeeded (vkCreateInstance, vkCreateDevice, ...)'],
  ['ready', 'inside a TypeScript policy committing ready blocks, with the rest of the log pending'],
  ['exit', 'by process.exit() inside a TypeScript policy'],
];

describeOnDrivers('workers stopped mid-call', ({ driver }) => {
  for (const [scenario, what] of SCENARIOS) {
    test(`a worker stopped ${what}: the process carries on and creates an instance`, async () => {
      const r = await runFixture(scenario, driver);
      // Signal and stderr first: they say what went wrong when it did.
      expect({ signal: r.signal, stderr: r.stderr.slice(-2000) }).toEqual({ signal: null, stderr: '' });
      expect(r.status).toBe(0);
      // threadsLeft: threads of driver objects nobody owned (before the fix, lavapipe kept
      // one per lost VkDevice, and SwiftShader's crashed once its driver was unloaded).
      expect(JSON.parse(r.stdout)).toEqual({ scenario, driver, iterations: ITERATIONS, live: 0, threadsLeft: 0 });
    }, 180_000);
  }
});
