// Input checks made in TypeScript before anything crosses into C++. Every message
// has one shape: "Expected <what> for <name> but received <what came>".
// Wrong type -> TypeError; right type, wrong value -> RangeError.

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  const ctor = (value as object).constructor;
  return ctor && ctor !== Object ? `an instance of ${ctor.name}` : 'an object';
}

export function fail(kind: 'type' | 'range', expected: string, name: string, value: unknown): never {
  const message = `Expected ${expected} for ${name} but received ${describe(value)}`;
  throw kind === 'type' ? new TypeError(message) : new RangeError(message);
}

export function integer(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const expected =
    min === 1 && max === Number.MAX_SAFE_INTEGER ? 'a positive integer'
      : min === 0 && max === Number.MAX_SAFE_INTEGER ? 'a non-negative integer'
    : `an integer between ${min} and ${max}`;
  if (typeof value !== 'number') fail('type', expected, name, value);
  if (!Number.isInteger(value) || value < min || value > max) fail('range', expected, name, value);
  return value;
}

export const positiveInteger = (value: unknown, name: string, max?: number) => integer(value, name, 1, max);
export const nonNegativeInteger = (value: unknown, name: string, max?: number) => integer(value, name, 0, max);
export const uint32 = (value: unknown, name: string) => integer(value, name, 0, 0xffffffff);

export function string(value: unknown, name: string): string {
  if (typeof value !== 'string') fail('type', 'a string', name, value);
  return value;
}

export function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') fail('type', 'a boolean', name, value);
  return value;
}

export function stringArray(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) fail('type', 'an array of strings', name, value);
  value.forEach((item, i) => string(item, `${name}[${i}]`));
  return value as string[];
}

/** An options object (undefined gives {}); unknown keys are refused so typos surface. */
export function options<K extends string>(value: unknown, name: string, keys: readonly K[]): Partial<Record<K, unknown>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('type', 'an options object', name, value);
  for (const key of Object.keys(value)) {
    if (!(keys as readonly string[]).includes(key)) {
      throw new TypeError(`Unknown option ${name}.${key}: expected one of ${keys.join(', ')}`);
    }
  }
  return value as Partial<Record<K, unknown>>;
}

export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  const expected = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
  if (typeof value !== 'string') fail('type', expected, name, value);
  if (!(allowed as readonly string[]).includes(value)) fail('range', expected, name, value);
  return value as T;
}

/**
 * A bit mask given as a number or as an array of flag names from `table`. A number may
 * hold only the table's bits (or be one of its values, like SHADER_STAGE.all): a bit
 * vkalloc does not know would reach the driver unchecked.
 */
export function flags(value: unknown, name: string, table: Readonly<Record<string, number>>): number {
  const names = Object.keys(table);
  if (typeof value === 'number') {
    const mask = uint32(value, name);
    const values = Object.values(table);
    if (values.includes(mask)) return mask;
    const known = values.filter((v) => (v & (v - 1)) === 0).reduce((a, v) => a | v, 0);
    const unknown = (mask & ~known) >>> 0;
    if (unknown !== 0) {
      const bits = names.filter((n) => (table[n] & (table[n] - 1)) === 0).map((n) => `'${n}' ${hex(table[n])}`).join(', ');
      throw new RangeError(`Expected a mask of the bits ${bits} for ${name} but received ${hex(mask)} (unknown bits ${hex(unknown)})`);
    }
    return mask;
  }
  if (!Array.isArray(value)) fail('type', `an array of ${names.map((n) => `'${n}'`).join(', ')} or a number`, name, value);
  let mask = 0;
  value.forEach((item, i) => {
    mask |= table[oneOf(item, `${name}[${i}]`, names)];
  });
  return mask >>> 0;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

export function instanceOf<T>(value: unknown, name: string, ctor: abstract new (...args: never[]) => T, what: string): T {
  if (!(value instanceof ctor)) fail('type', what, name, value);
  return value;
}
