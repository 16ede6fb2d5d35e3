// What the machine's Vulkan loader offers, before any instance exists.
import native, { Native } from '../native/binding';
import * as is from '../util/is';

/** Whether libvulkan.so.1 could be loaded, and its instance version. */
export function loaderStatus(): Native.LoaderStatus {
  return native.loaderStatus();
}

export function instanceLayers(): ReturnType<typeof native.instanceLayers> {
  return native.instanceLayers();
}

/** Instance extensions of the loader and drivers, or of one layer. */
export function instanceExtensions(layer?: string): ReturnType<typeof native.instanceExtensions> {
  return native.instanceExtensions(layer === undefined ? null : is.string(layer, 'layer'));
}
