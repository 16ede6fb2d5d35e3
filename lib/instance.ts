// createInstance() and Instance: the root of every Vulkan object tree.
import native, { Native } from './binding';
import { DriverChoice, DriverSelection, resolveDriver } from './driver';
import './errors';
import { makeApiVersion } from './flags';
import { allocatorOption, HostAllocator } from './host-allocator';
import { PhysicalDevice } from './physical-device';
import { checkConstruct, CONSTRUCT, VulkanObject } from './resource';
import * as is from './validate';

export interface InstanceOptions {
  applicationName?: string;
  applicationVersion?: number;
  /** '1.0' … '1.3', or a number from makeApiVersion(). Default '1.3'. */
  apiVersion?: '1.0' | '1.1' | '1.2' | '1.3' | number;
  /** 'auto' (default: a real GPU when present, else lavapipe), 'lavapipe', 'swiftshader', or an ICD .json path. */
  driver?: DriverChoice;
  layers?: string[];
  extensions?: string[];
}

export interface AllocatorOptions {
  /** Omitted or null: the driver's own allocator (Vulkan's pAllocator = NULL). */
  allocator?: HostAllocator | null;
}

export interface DriverReport {
  /** What was asked for. */
  choice: DriverChoice;
  /** The ICD manifests given to the loader, or null for every installed driver. */
  icdFiles: string[] | null;
  /** The driver of the default physical device (VkPhysicalDeviceDriverProperties). */
  name: string | null;
  info: string | null;
  deviceName: string;
  deviceType: string;
}

const INSTANCE_KEYS = ['applicationName', 'applicationVersion', 'apiVersion', 'driver', 'layers', 'extensions'] as const;
const API_VERSIONS: Record<string, number> = {
  '1.0': makeApiVersion(1, 0), '1.1': makeApiVersion(1, 1), '1.2': makeApiVersion(1, 2), '1.3': makeApiVersion(1, 3),
};

export function createInstance(options?: InstanceOptions, allocatorOptions?: AllocatorOptions): Instance {
  const o = is.options(options, 'options', INSTANCE_KEYS);
  const applicationName = o.applicationName === undefined ? 'vkalloc' : is.string(o.applicationName, 'applicationName');
  const applicationVersion = o.applicationVersion === undefined ? 1 : is.uint32(o.applicationVersion, 'applicationVersion');
  let apiVersion = API_VERSIONS['1.3'];
  if (typeof o.apiVersion === 'number') apiVersion = is.integer(o.apiVersion, 'apiVersion', makeApiVersion(1, 0), 0xffffffff);
  else if (o.apiVersion !== undefined) apiVersion = API_VERSIONS[is.oneOf(o.apiVersion, 'apiVersion', Object.keys(API_VERSIONS))];
  const layers = o.layers === undefined ? [] : is.stringArray(o.layers, 'layers');
  const extensions = o.extensions === undefined ? [] : is.stringArray(o.extensions, 'extensions');
  const driver = resolveDriver(o.driver === undefined ? 'auto' : is.string(o.driver, 'driver'));
  const { allocator, bridge } = allocatorOption(allocatorOptions, 'createInstance options');
  const handle = native.createInstance(
    { applicationName, applicationVersion, engineName: 'vkalloc', apiVersion, layers, extensions, driverFiles: driver.icdFiles },
    bridge);
  return new Instance(CONSTRUCT, handle, allocator, driver, apiVersion);
}

const DEVICE_PREFERENCE = ['discrete-gpu', 'integrated-gpu', 'virtual-gpu', 'cpu', 'other'];

export class Instance extends VulkanObject<Native.Instance> {
  /** The allocator this instance was created with (null: the driver's own). */
  readonly allocator: HostAllocator | null;
  readonly apiVersion: number;
  #selection: DriverSelection;
  #physicalDevices: PhysicalDevice[] | null = null;

  /** @internal */
  constructor(token: unknown, handle: Native.Instance, allocator: HostAllocator | null, selection: DriverSelection, apiVersion: number) {
    checkConstruct(token, 'Instance');
    super(handle);
    this.allocator = allocator;
    this.#selection = selection;
    this.apiVersion = apiVersion;
  }

  /** The physical devices, in the loader's order (vkEnumeratePhysicalDevices runs once). */
  physicalDevices(): PhysicalDevice[] {
    const handle = Instance.nativeOf(this);
    if (!this.#physicalDevices) {
      this.#physicalDevices = handle.physicalDevices().map((pd) => new PhysicalDevice(CONSTRUCT, pd, this));
    }
    return [...this.#physicalDevices];
  }

  /** The device 'auto' means: discrete GPU, then integrated, virtual, CPU. */
  defaultPhysicalDevice(): PhysicalDevice {
    const devices = this.physicalDevices();
    if (devices.length === 0) throw new Error('This instance has no physical devices: no Vulkan driver found a device');
    const rank = (pd: PhysicalDevice) => DEVICE_PREFERENCE.indexOf(pd.type);
    return devices.reduce((best, pd) => (rank(pd) < rank(best) ? pd : best));
  }

  /** Which driver this instance runs on, as the default physical device reports it. */
  get driver(): DriverReport {
    const pd = this.defaultPhysicalDevice();
    return {
      choice: this.#selection.choice,
      icdFiles: this.#selection.icdFiles,
      name: pd.driver.name,
      info: pd.driver.info,
      deviceName: pd.name,
      deviceType: pd.type,
    };
  }
}
