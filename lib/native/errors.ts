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

function causeText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
