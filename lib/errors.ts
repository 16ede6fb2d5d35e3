// VulkanError: a Vulkan command returned a negative VkResult.
import native from './binding';
import { describe } from './validate';

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
  return typeof message === 'string' ? message : describe(cause);
}

// Native code builds its errors with this, inside the failing call, so the stack
// is the caller's.
native.setErrorFactory((result, code, command, cause) => new VulkanError(result, code, command, cause));
