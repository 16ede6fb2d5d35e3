// VulkanError: a Vulkan command returned a negative VkResult.
import native from './binding';

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

// Native code builds its errors with this, inside the failing call, so the stack
// is the caller's.
native.setErrorFactory((result, code, command, cause) => new VulkanError(result, code, command, cause));
