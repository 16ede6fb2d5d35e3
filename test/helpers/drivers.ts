// The drivers every Vulkan test runs on: lavapipe and SwiftShader (both CPU
// drivers from Debian packages; see scripts/setup.js). Each describe block's title
// names the driver and the device it really ran on.
//
// VKALLOC_TEST_DRIVERS (comma-separated driver choices: 'lavapipe', 'swiftshader',
// 'auto', or an ICD .json path) runs them on others instead, e.g. a real GPU:
//   VKALLOC_TEST_DRIVERS=auto,lavapipe npx jest
import { findLavapipe, findSwiftshader } from '../../lib/vulkan/driver';
import { createInstance } from '../../lib/vulkan/instance';

export type TestDriver = 'lavapipe' | 'swiftshader' | (string & {});

export interface DriverUnderTest {
  driver: TestDriver;
  /** e.g. "llvmpipe (LLVM 15.0.6, 256 bits), Mesa 22.3.6 (LLVM 15.0.6)" */
  description: string;
}

function describeDriver(driver: TestDriver): DriverUnderTest {
  const found = driver === 'lavapipe' ? findLavapipe() : driver === 'swiftshader' ? findSwiftshader() : driver;
  if (!found) {
    throw new Error(`${driver} is not installed: run \`node scripts/setup.js --for-tests\` (npm test does this)`);
  }
  const instance = createInstance({ driver });
  try {
    const report = instance.driver;
    return { driver, description: `${report.deviceName}, ${report.name ?? '?'} ${report.info ?? ''}`.trim() };
  } finally {
    instance.destroy();
  }
}

const CHOSEN = (process.env.VKALLOC_TEST_DRIVERS || 'lavapipe,swiftshader').split(',').map((d) => d.trim()).filter(Boolean);
export const DRIVERS: DriverUnderTest[] = CHOSEN.map(describeDriver);

/** describe() once per driver, titled "<title> on <driver> (<device, driver info>)". */
export function describeOnDrivers(title: string, body: (d: DriverUnderTest) => void): void {
  for (const d of DRIVERS) describe(`${title} on ${d.driver} (${d.description})`, () => body(d));
}
