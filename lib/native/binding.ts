// The one place the native module is loaded. Everything native goes through this
// typed handle (contract.ts is the contract).
import type * as Native from './contract';
import { checkBoundary } from './boundary';
import { VulkanError } from './errors';
import { PACKAGE_ROOT } from './paths';

const nodeGypBuild: (root: string) => unknown = require('node-gyp-build');

const native = loadAddon();
checkBoundary(native.boundary);

/** The package's own build (build/Release) if there is one, else its prebuilt binary. */
function loadAddon(): typeof Native {
  try {
    return nodeGypBuild(PACKAGE_ROOT) as typeof Native;
  } catch (e) {
    if (!(e instanceof Error) || !/No native build was found/.test(e.message)) throw e;
    throw new Error(`vkalloc has no native binary for ${process.platform}-${process.arch} ` +
      '(the package ships prebuilt binaries for linux-x64 only), and no build of its own in ' +
      `${PACKAGE_ROOT}. To build from source: clone the repository and run \`npm run build\` ` +
      '(it needs cmake 3.15 or newer, a C++17 compiler and the Vulkan headers, e.g. ' +
      '`apt-get install cmake g++ libvulkan-dev`; see docs/packaging.md).', { cause: e });
  }
}

// node-addon-api unwraps `this` without checking its class: a method of one wrapped
// class called on an object of another would reinterpret it. Every method and
// accessor of the native classes first checks `this` (arguments are checked natively
// with type tags, native/bridge/addon_data.h UnwrapAs).
function guardThis(classes: Record<string, unknown>): void {
  for (const cls of Object.values(classes)) {
    if (typeof cls !== 'function' || typeof cls.prototype !== 'object') continue;
    const proto = cls.prototype as object;
    const check = (self: unknown) => {
      if (!(self instanceof (cls as new () => object))) throw new TypeError('Illegal invocation');
    };
    for (const key of Object.getOwnPropertyNames(proto)) {
      const desc = Object.getOwnPropertyDescriptor(proto, key)!;
      if (key === 'constructor' || !desc.configurable) continue;
      if (typeof desc.value === 'function') {
        const method = desc.value as (...args: unknown[]) => unknown;
        desc.value = function (this: unknown, ...args: unknown[]) {
          check(this);
          return method.apply(this, args);
        };
      } else if (desc.get) {
        const get = desc.get;
        desc.get = function (this: unknown) {
          check(this);
          return get.call(this);
        };
      } else {
        continue;
      }
      Object.defineProperty(proto, key, desc);
    }
  }
}
guardThis(native as unknown as Record<string, unknown>);

// Native code builds its errors with this, inside the failing call, so the stack is
// the caller's. Installed here, with the load, so no import order can skip it.
native.setErrorFactory((result, code, command, cause) => new VulkanError(result, code, command, cause));

export default native;
export type { Native };
