// createInstance() and Instance: the root of every Vulkan object tree.
import native, { Native } from '../native/binding';
import { DriverChoice, DriverSelection, resolveDriver } from './driver';
import { flagNames, INSTANCE_FLAGS, InstanceFlag, makeApiVersion, MESSAGE_SEVERITY, MESSAGE_TYPE, MessageSeverity, MessageType } from '../util/flags';
import { allocatorOption, HostAllocator } from '../allocator/host-allocator';
import { PhysicalDevice } from './physical-device';
import { checkConstruct, CONSTRUCT, VulkanObject } from './resource';
import * as is from '../util/is';

export interface InstanceOptions {
  applicationName?: string;
  applicationVersion?: number;
  /** '1.0' … '1.3', or a number from makeApiVersion(). Default '1.3'. */
  apiVersion?: '1.0' | '1.1' | '1.2' | '1.3' | number;
  /** 'auto' (default: a real GPU when present, else lavapipe), 'lavapipe', 'swiftshader', or an ICD .json path. */
  driver?: DriverChoice;
  layers?: string[];
  extensions?: string[];
  /**
   * VkInstanceCreateFlags by name (or a raw mask of known bits). 'enumerate-portability'
   * (what MoltenVK on macOS needs) also enables VK_KHR_portability_enumeration.
   */
  flags?: InstanceFlag[] | number;
  /**
   * Enables VK_LAYER_KHRONOS_validation with a VK_EXT_debug_utils messenger (made with
   * this instance's allocator): its messages reach instance.validationMessages() and
   * `onMessage`. true means { severities: ['warning', 'error'] }.
   */
  validation?: boolean | ValidationOptions;
}

export interface ValidationOptions {
  /** Default ['warning', 'error']. */
  severities?: MessageSeverity[];
  /** Default all: ['general', 'validation', 'performance']. */
  types?: MessageType[];
  /**
   * Called once per message, on the JS thread, never from inside a Vulkan call: from the
   * event loop after the command that caused it has returned, or from inside
   * validationMessages() / destroy() when those collect it first.
   */
  onMessage?: (message: ValidationMessage) => void;
}

export type ValidationMessage = Native.NativeValidationMessage;

/** The Khronos validation layer's name. */
export const VALIDATION_LAYER = 'VK_LAYER_KHRONOS_validation';
const DEBUG_UTILS = 'VK_EXT_debug_utils';

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

const INSTANCE_KEYS = ['applicationName', 'applicationVersion', 'apiVersion', 'driver', 'layers', 'extensions', 'flags', 'validation'] as const;
const PORTABILITY_ENUMERATION = 'VK_KHR_portability_enumeration';
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
  const flags = o.flags === undefined ? 0 : is.flags(o.flags, 'flags', INSTANCE_FLAGS);
  if (flags & INSTANCE_FLAGS['enumerate-portability'] && !extensions.includes(PORTABILITY_ENUMERATION)) {
    extensions.push(PORTABILITY_ENUMERATION);
  }
  const driver = resolveDriver(o.driver === undefined ? 'auto' : is.string(o.driver, 'driver'));
  const validation = validationOption(o.validation);
  if (validation) {
    if (!native.instanceLayers().some((l) => l.name === VALIDATION_LAYER)) {
      throw new Error(`Validation needs the Khronos validation layer (${VALIDATION_LAYER}), which the Vulkan loader did not find: ` +
        'install it with: apt-get install vulkan-validationlayers');
    }
    if (!layers.includes(VALIDATION_LAYER)) layers.push(VALIDATION_LAYER);
    if (!extensions.includes(DEBUG_UTILS)) extensions.push(DEBUG_UTILS);
  }
  const { allocator, bridge } = allocatorOption(allocatorOptions, 'createInstance options');
  let created: Instance | null = null;
  const notify = validation ? () => { if (created) Instance.deliverMessages(created); } : null;
  const handle = native.createInstance(
    {
      applicationName, applicationVersion, engineName: 'vkalloc', apiVersion, layers, extensions, flags, driverFiles: driver.icdFiles,
      validation: validation && { severities: validation.severities, types: validation.types, notify },
    },
    bridge);
  created = new Instance(CONSTRUCT, handle, allocator, driver, apiVersion, validation);
  return created;
}

interface ResolvedValidation {
  severities: number;
  types: number;
  onMessage: ((message: ValidationMessage) => void) | null;
}

function validationOption(value: unknown): ResolvedValidation | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { severities: MESSAGE_SEVERITY.warning | MESSAGE_SEVERITY.error, types: 0x7, onMessage: null };
  if (value === null || typeof value !== 'object') is.fail('type', 'a boolean or { severities?, types?, onMessage? }', 'validation', value);
  const v = is.options(value, 'validation', ['severities', 'types', 'onMessage'] as const);
  const severities = v.severities === undefined ? MESSAGE_SEVERITY.warning | MESSAGE_SEVERITY.error
    : is.flags(v.severities, 'validation.severities', MESSAGE_SEVERITY);
  const types = v.types === undefined ? 0x7 : is.flags(v.types, 'validation.types', MESSAGE_TYPE);
  if (severities === 0) is.fail('range', 'at least one severity', 'validation.severities', v.severities);
  if (types === 0) is.fail('range', 'at least one message type', 'validation.types', v.types);
  if (v.onMessage !== undefined && typeof v.onMessage !== 'function') is.fail('type', 'a function', 'validation.onMessage', v.onMessage);
  return { severities, types, onMessage: (v.onMessage as ResolvedValidation['onMessage']) ?? null };
}

const DEVICE_PREFERENCE = ['discrete-gpu', 'integrated-gpu', 'virtual-gpu', 'cpu', 'other'];

export class Instance extends VulkanObject<Native.Instance> {
  /** The allocator this instance was created with (null: the driver's own). */
  readonly allocator: HostAllocator | null;
  readonly apiVersion: number;
  #selection: DriverSelection;
  #physicalDevices: PhysicalDevice[] | null = null;
  readonly #validation: ResolvedValidation | null;
  readonly #messages: ValidationMessage[] = [];

  /** @internal */
  constructor(token: unknown, handle: Native.Instance, allocator: HostAllocator | null, selection: DriverSelection, apiVersion: number,
    validation: ResolvedValidation | null = null) {
    checkConstruct(token, 'Instance');
    super(handle);
    this.allocator = allocator;
    this.#selection = selection;
    this.apiVersion = apiVersion;
    this.#validation = validation;
  }

  /** Whether this instance runs with the validation layer (and, if so, the severities and types it reports). */
  get validation(): { severities: MessageSeverity[]; types: MessageType[] } | null {
    const v = this.#validation;
    return v && { severities: flagNames(v.severities, MESSAGE_SEVERITY), types: flagNames(v.types, MESSAGE_TYPE) };
  }

  /** The callback validation messages go to (settable; null for none). */
  get onValidationMessage(): ((message: ValidationMessage) => void) | null {
    return this.#validation?.onMessage ?? null;
  }

  set onValidationMessage(fn: ((message: ValidationMessage) => void) | null) {
    if (fn !== null && typeof fn !== 'function') is.fail('type', 'a function or null', 'onValidationMessage', fn);
    if (!this.#validation) throw new Error('This instance was created without validation: createInstance({ validation: true })');
    this.#validation.onMessage = fn;
  }

  /** @internal Moves messages the layer reported into the list, telling onMessage of each. */
  static deliverMessages(instance: Instance): void {
    const fresh = Instance.nativeOf(instance).takeValidationMessages();
    for (const m of fresh) {
      Object.freeze(m.types);
      instance.#messages.push(Object.freeze(m));
    }
    const onMessage = instance.#validation?.onMessage;
    if (onMessage) for (const m of fresh) onMessage(m);
  }

  /** Every validation message reported so far (oldest first), including those of destroy(). */
  validationMessages(): readonly ValidationMessage[] {
    Instance.deliverMessages(this);
    return [...this.#messages];
  }

  /** Forgets the messages reported so far (validationMessages() then starts from empty). */
  clearValidationMessages(): void {
    Instance.deliverMessages(this);
    this.#messages.length = 0;
  }

  /**
   * Destroys the instance and everything under it; devices with submitted work wait for
   * it to finish first. Validation messages of the teardown are delivered before it returns.
   */
  override destroy(...args: unknown[]): void {
    if (args.length === 0 && !this.destroyed) {
      for (const pd of this.#physicalDevices ?? []) for (const d of PhysicalDevice.devicesOf(pd)) d.settle();
    }
    super.destroy(...args);
    if (this.#validation) Instance.deliverMessages(this);
  }

  /** The physical devices, in the loader's order (vkEnumeratePhysicalDevices runs once). */
  physicalDevices(): PhysicalDevice[] {
    const handle = Instance.liveNativeOf(this);
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
