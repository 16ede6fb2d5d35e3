// What every Vulkan object wrapper shares: the native object behind it (reached
// only through a brand check, so a method called on a foreign `this` throws
// "Illegal invocation"), destroy(), `destroyed`, and Symbol.dispose.
//
// Lifetime (enforced natively, native/vulkan/resource.h): a live object keeps its parent
// and allocator alive; destroying a parent destroys its live children first
// (newest first), each with the allocator it was created with; destroy() is
// idempotent; objects never destroyed are destroyed when the process or worker exits.

export interface NativeResource {
  readonly destroyed: boolean;
  destroy(): void;
}

/** Passed by the library when it constructs wrappers; `new Buffer()` from outside is refused. */
export const CONSTRUCT = Symbol('vkalloc.construct');

export function checkConstruct(token: unknown, type: string): void {
  if (token !== CONSTRUCT) throw new TypeError(`Illegal constructor: ${type} objects come from the API (e.g. device.create${type}())`);
}

// Symbol.dispose in the shipped types even for projects whose lib lacks ESNext.Disposable
// (declarations of the same unique symbol merge with TypeScript's own and @types/node's).
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

export abstract class VulkanObject<N extends NativeResource = NativeResource> {
  readonly #native: N;

  protected constructor(native: N) {
    this.#native = native;
  }

  /**
   * The native object, after checking `self` really is one of ours and of the class
   * this is called on (Device.nativeOf(x) refuses a Buffer).
   */
  protected static nativeOf<N extends NativeResource>(self: VulkanObject<N>): N {
    if (typeof self !== 'object' || self === null || !(#native in self) || !(self instanceof this)) {
      throw new TypeError('Illegal invocation');
    }
    return self.#native;
  }

  /** nativeOf(), refusing an object already destroyed with the message native code gives ("Device is destroyed"). */
  protected static liveNativeOf<N extends NativeResource>(self: VulkanObject<N>): N {
    const native = this.nativeOf(self);
    if (native.destroyed) throw new Error(`${this.name} is destroyed`);
    return native;
  }

  get destroyed(): boolean {
    return VulkanObject.nativeOf(this).destroyed;
  }

  /** Destroys this object (and its live children first) with the allocator it was created with. */
  destroy(...args: unknown[]): void {
    if (args.length > 0) {
      throw new TypeError(
        'destroy() takes no arguments: an object is always destroyed with the allocator it was created with');
    }
    VulkanObject.nativeOf(this).destroy();
  }

  [disposeSymbol](): void {
    this.destroy();
  }
}

/**
 * Throws unless `object` was made by `device` (objects of two devices never mix).
 * Here rather than in device.ts so that children need Device as a type only.
 */
export function checkSameDevice(device: object, object: { device: object }, name: string, type: string): void {
  if (object.device !== device) throw new Error(`${name} belongs to a different Device than this ${type}`);
}
