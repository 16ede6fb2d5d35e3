// Image (2D, one mip level and layer: what a storage image needs) with memory
// requirements and binding like Buffer, and ImageView, a child of its image.
import { Native } from '../native/binding';
import type { MemoryRequirements } from './buffer';
import type { Device } from './device';
import { FORMAT, FORMAT_FEATURE, Format, IMAGE_TILING, IMAGE_USAGE, ImageTiling, ImageUsage, flagNames, makeApiVersion } from '../util/flags';
import { allocatorOption, HostAllocator } from '../allocator/host-allocator';
import type { AllocatorOptions } from './instance';
import { DeviceMemory } from './memory';
import { checkConstruct, checkSameDevice, CONSTRUCT, VulkanObject } from './resource';
import * as is from '../util/is';

export interface ImageOptions {
  format: Format;
  width: number;
  height: number;
  usage: ImageUsage[] | number;
  /** Default 'optimal'. */
  tiling?: ImageTiling;
  /** Views may use another format of the same texel size (VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT). Default false. */
  mutableFormat?: boolean;
}

const FORMATS = Object.keys(FORMAT) as Format[];
const MUTABLE_FORMAT = 0x8;  // VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT

export class Image extends VulkanObject<Native.Image> {
  readonly device: Device;
  readonly allocator: HostAllocator | null;
  readonly format: Format;
  readonly width: number;
  readonly height: number;
  readonly usage: number;
  readonly usageNames: readonly ImageUsage[];
  readonly mutableFormat: boolean;
  #requirements: MemoryRequirements | null = null;
  #bound: { memory: DeviceMemory; offset: number } | null = null;

  /** @internal */
  constructor(token: unknown, handle: Native.Image, device: Device, allocator: HostAllocator | null,
    info: { format: Format; width: number; height: number; usage: number; flags: number }) {
    checkConstruct(token, 'Image');
    super(handle);
    this.device = device;
    this.allocator = allocator;
    this.format = info.format;
    this.width = info.width;
    this.height = info.height;
    this.usage = info.usage;
    this.usageNames = Object.freeze(flagNames(info.usage, IMAGE_USAGE));
    this.mutableFormat = (info.flags & MUTABLE_FORMAT) !== 0;
  }

  /** Bytes per texel of the format. */
  get texelSize(): number {
    return FORMAT[this.format].bytes;
  }

  /** vkGetImageMemoryRequirements (asked once). */
  get memoryRequirements(): MemoryRequirements {
    const handle = Image.nativeOf(this);
    if (handle.destroyed) handle.memoryRequirements();  // throws "Image is destroyed"
    return (this.#requirements ??= Object.freeze(handle.memoryRequirements()));
  }

  get boundMemory(): { memory: DeviceMemory; offset: number } | null {
    return this.#bound;
  }

  bindMemory(memory: DeviceMemory, offset = 0): void {
    const handle = Image.nativeOf(this);
    is.instanceOf(memory, 'memory', DeviceMemory, 'a DeviceMemory');
    checkSameDevice(this.device, memory, 'memory', 'Image');
    is.nonNegativeInteger(offset, 'offset');
    if (this.#bound) throw new Error('Image is already bound to memory: Vulkan binds an image once');
    const req = this.memoryRequirements;
    if ((req.memoryTypeBits & (1 << memory.memoryType.index)) === 0) {
      throw new RangeError(`memory has type ${memory.memoryType.index}, which this image cannot use (memoryTypeBits 0b${req.memoryTypeBits.toString(2)})`);
    }
    if (offset % req.alignment !== 0) throw new RangeError(`Expected a multiple of ${req.alignment} for offset but received ${offset}`);
    if (offset + req.size > memory.size) {
      throw new RangeError(`memory (${memory.size} bytes) is too small for this image (${req.size} bytes) at offset ${offset}`);
    }
    handle.bindMemory(VulkanObject.nativeOf(memory), offset);
    this.#bound = { memory, offset };
  }

  /** A 2D colour view of the whole image (vkCreateImageView), destroyed with the image at the latest. */
  createView(options?: { format?: Format }, allocatorOptions?: AllocatorOptions): ImageView {
    const handle = Image.nativeOf(this);
    const o = is.options(options, 'options', ['format'] as const);
    const format = o.format === undefined ? this.format : is.oneOf(o.format, 'format', FORMATS);
    if (format !== this.format && !this.mutableFormat) {
      throw new RangeError(`A view of a '${this.format}' image has its format unless the image was created with mutableFormat: true; received '${format}'`);
    }
    if (FORMAT[format].bytes !== this.texelSize) {
      throw new RangeError(`A view of a '${this.format}' image needs a format of the same texel size (${this.texelSize} bytes); '${format}' has ${FORMAT[format].bytes}`);
    }
    checkImageUsable(this, 'image');
    const { allocator, bridge } = allocatorOption(allocatorOptions, 'createView options');
    return new ImageView(CONSTRUCT, handle.createView({ format: FORMAT[format].value }, bridge), this, allocator, format);
  }
}

export class ImageView extends VulkanObject<Native.ImageView> {
  readonly image: Image;
  readonly allocator: HostAllocator | null;
  readonly format: Format;

  /** @internal */
  constructor(token: unknown, handle: Native.ImageView, image: Image, allocator: HostAllocator | null, format: Format) {
    checkConstruct(token, 'ImageView');
    super(handle);
    this.image = image;
    this.allocator = allocator;
    this.format = format;
  }

  get device(): Device {
    return this.image.device;
  }
}

/** createImage's options, checked against what the physical device supports for the format. */
export function imageInfo(options: unknown, device: Device): {
  format: Format; width: number; height: number; usage: number; tiling: number; flags: number;
} {
  const o = is.options(options, 'options', ['format', 'width', 'height', 'usage', 'tiling', 'mutableFormat'] as const);
  const flags = o.mutableFormat === undefined || !is.boolean(o.mutableFormat, 'mutableFormat') ? 0 : MUTABLE_FORMAT;
  const format = is.oneOf(o.format, 'format', FORMATS);
  const max = device.physicalDevice.limits.maxImageDimension2D;
  const width = is.integer(o.width, 'width', 1, max);
  const height = is.integer(o.height, 'height', 1, max);
  const usage = is.flags(o.usage, 'usage', IMAGE_USAGE);
  if (usage === 0) is.fail('range', 'at least one usage flag', 'usage', o.usage);
  const tilingName = o.tiling === undefined ? 'optimal' : is.oneOf(o.tiling, 'tiling', Object.keys(IMAGE_TILING) as ImageTiling[]);
  const props = device.physicalDevice.formatProperties(format);
  const features = tilingName === 'optimal' ? props.optimalTilingFeatures : props.linearTilingFeatures;
  const need: [ImageUsage, keyof typeof FORMAT_FEATURE][] = [['storage', 'storage-image']];
  // Transfer format features exist from Vulkan 1.1 (VK_KHR_maintenance1); before that every format could be copied.
  const pd = device.physicalDevice;
  if (Math.min(pd.apiVersionNumber, pd.instance.apiVersion) >= makeApiVersion(1, 1)) {
    need.push(['transfer-src', 'transfer-src'], ['transfer-dst', 'transfer-dst']);
  }
  for (const [use, feature] of need) {
    if ((usage & IMAGE_USAGE[use]) !== 0 && (features & FORMAT_FEATURE[feature]) === 0) {
      throw new RangeError(`This device does not support usage '${use}' for '${format}' images with ${tilingName} tiling`);
    }
  }
  return { format, width, height, usage, tiling: IMAGE_TILING[tilingName], flags };
}

/** Throws unless `image` is alive and bound to live memory. */
export function checkImageUsable(image: Image, name: string): void {
  if (image.destroyed) throw new Error(`${name} is destroyed`);
  const bound = image.boundMemory;
  if (!bound) throw new Error(`${name} is not bound to memory: call bindMemory() first`);
  if (bound.memory.destroyed) throw new Error(`${name}'s memory has been destroyed`);
}
