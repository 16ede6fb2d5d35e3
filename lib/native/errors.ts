// VulkanError: a Vulkan command returned a negative VkResult. Native code builds
// these through the factory lib/native/binding.ts installs when it loads the addon.

export class VulkanError extends Error {
  /** The VkResult name, e.g. 'VK_ERROR_OUT_OF_HOST_MEMORY'. */
  readonly code: string;
  /** The numeric VkResult, e.g. -1. */
  readonly result: number;
  /** The Vulkan command that failed, e.g. 'vkCreateBuffer'. */
  readonly command: string;

  constructor(result: number, code: string, command: string, cause?: unknown) {
    const because = cause === undefined ? '' : `: the allocator policy failed: ${causeText(cause)}`;
    super(`${command} failed with ${code} (${result})${because}`, cause === undefined ? undefined : { cause });
    this.name = 'VulkanError';
    this.code = code;
    this.result = result;
    this.command = command;
  }
}

// (An Error from another realm is still an Error: its message, not "Error: ...".)
function causeText(cause: unknown): string {
  const message = typeof cause === 'object' && cause !== null ? (cause as { message?: unknown }).message : undefined;
  if (typeof message === 'string') return message;
  // The dispatcher already wraps what policies throw in Errors; this is a fallback that
  // must not throw itself (a hostile toString) and needs nothing from util/.
  try {
    return typeof cause === 'string' ? JSON.stringify(cause) : String(cause);
  } catch {
    return Object.prototype.toString.call(cause);
  }
}
