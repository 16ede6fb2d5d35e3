// In-process attach: a HostAllocator (its TypeScript policy included) under the Vulkan
// objects that other code in this Node process creates with a NULL pAllocator, e.g.
// another native addon (a WebGPU implementation, an inference runtime) that calls Vulkan
// itself. The vkalloc layer library is loaded into the process once (native/bridge/attach.cc)
// and enabled for instances created from now on through the loader's environment, which the
// loader reads at each vkCreateInstance. docs/tracing-any-program.md, "In-process".
import * as path from 'path';
import native from '../native/binding';
import { bridgeOf, HostAllocator } from '../allocator/host-allocator';
import { describe } from '../util/is';
import { layerDir, layerEnv } from './run';

/** The loader variables attach() sets (and detach() restores). */
const LOADER_VARIABLES = ['VK_ADD_LAYER_PATH', 'VK_LAYER_PATH', 'VK_INSTANCE_LAYERS', 'VK_LOADER_LAYERS_ENABLE'] as const;

export interface AttachedAllocator {
  allocator: HostAllocator;
  /** True for the attached allocator, false for one detached that objects still use. */
  attached: boolean;
  /** Objects created while it was attached and not destroyed yet (instances, devices, buffers, ...). */
  liveObjects: number;
}

/**
 * Puts `allocator` under every Vulkan instance created from now on in this process (by any
 * code: another native addon included) and every object created from it with a NULL
 * pAllocator. Callbacks on the JS thread reach the policy synchronously; callbacks from
 * other threads are served natively, as for vkalloc's own objects. Stats, traces, contract
 * checks (recorded, never thrown: the caller is not vkalloc) and fault injection work as
 * usual, named by the Vulkan command the layer sees running. One allocator at a time.
 */
export function attach(allocator: HostAllocator): void {
  if (!(allocator instanceof HostAllocator)) {
    throw new TypeError(`Expected a HostAllocator for allocator but received ${describe(allocator)}`);
  }
  const dir = layerDir();
  const env = layerEnv({}, process.env);
  const vars: [string, string][] = [];
  for (const name of LOADER_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== process.env[name]) vars.push([name, value]);
  }
  native.attachLayer(path.join(dir, 'libVkLayer_vkalloc.so'), bridgeOf(allocator), [allocator], vars);
}

/**
 * Stops serving new objects with the attached allocator and restores the loader's
 * environment. Objects created while attached keep it until they are destroyed (their
 * destroys get the callbacks their creates got), and it is kept alive until then.
 * Returns how many such objects are still alive (0 when none, or nothing was attached).
 */
export function detach(): number {
  return Math.max(0, native.detachLayer());
}

/** The attached allocator, and any detached one that objects still use, of this thread. */
export function attachedAllocators(): AttachedAllocator[] {
  return native.layerAttachments().map((a) => ({
    allocator: a.holder[0] as HostAllocator, attached: a.attached, liveObjects: a.liveObjects,
  }));
}
