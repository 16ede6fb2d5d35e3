// Builds TraceData by hand, event by event, as the native recorder would write it
// (lib/trace/format.ts), so the analysis can be tested exactly.
//
//   const b = new TraceBuilder();
//   b.begin('vkCreateInstance');
//   const instance = b.create('Instance');        // this command creates it: its events get the object
//   const a = b.allocate(4096, 'instance');
//   b.end();
//   b.begin('vkDestroyInstance', instance);       // this command destroys it
//   b.free(a);
//   b.end();
//   const data = b.build();
import type { AllocationScope } from '../../lib/allocator/policy';
import { ALLOCATION_SCOPES } from '../../lib/allocator/policy';
import { EVENT_FLAGS, EVENT_KINDS, EventKind, TRACE_FORMAT, TRACE_VERSION, TraceData, TraceObject } from '../../lib/trace/format';

interface RawEvent {
  seq: number;
  time: number;
  kind: number;
  scope: number;
  flags: number;
  size: number;
  alignment: number;
  address: number;
  oldAddress: number;
  command: number;
  thread: number;
  object: number;
}

interface OpenCommand {
  command: number;
  beginSeq: number;
  events: RawEvent[];
  /** Created by this command (create) or acted on (destroy). */
  object: number;
  destroys: boolean;
}

export interface EventOptions {
  alignment?: number;
  /** Another thread (> 0): the event is off-thread and outside any command. */
  thread?: number;
  /** Override the object the recorder would attribute. */
  object?: number;
}

export class TraceBuilder {
  /** ns between consecutive events (advance() adds more). */
  step = 1000;
  private now = 0;
  private nextAddress = 0x10000;
  private readonly events: RawEvent[] = [];
  private readonly commands: string[] = ['none'];
  private readonly objects: TraceObject[] = [{ id: 0, type: '', createdBy: 'none', createdAt: 0, destroyedAt: null, parent: 0 }];
  private readonly callSites: Record<number, string> = {};
  private readonly open: OpenCommand[] = [];
  /** Sizes of live blocks, for free events' size column. */
  private readonly sizes = new Map<number, number>();
  dropped = 0;

  /**
   * `stamp`: which event's seq createdAt/destroyedAt hold, the command-begin or the
   * command-end (the analysis must not depend on it).
   */
  constructor(readonly meta: Record<string, string | number> = { driver: 'synthetic' }, readonly stamp: 'begin' | 'end' = 'begin') {}

  advance(ns: number): this {
    this.now += ns;
    return this;
  }

  /** Starts a command on the JS thread; `destroys`: the object a destroy command destroys. */
  begin(command: string, destroys = 0, callSite?: string): number {
    const ev = this.push('command-begin', { command: this.commandIndex(command) });
    if (callSite) this.callSites[ev.seq] = callSite;
    this.open.push({ command: ev.command, beginSeq: ev.seq, events: [ev], object: destroys, destroys: destroys > 0 });
    if (destroys && this.stamp === 'begin') this.objects[destroys].destroyedAt = ev.seq;
    return ev.seq;
  }

  /** Ends the innermost command; `result` is its VkResult. */
  end(result = 0): number {
    const cmd = this.open.pop();
    if (!cmd) throw new Error('end() without begin()');
    const ev = this.push('command-end', { command: cmd.command, size: result });
    cmd.events.push(ev);
    // The recorder learns the created/destroyed object during the command and stamps all its events.
    for (const e of cmd.events) if (e.object === 0) e.object = cmd.object;
    if (cmd.object) {
      const o = this.objects[cmd.object];
      if (cmd.destroys && this.stamp === 'end') o.destroyedAt = ev.seq;
      if (!cmd.destroys && this.stamp === 'end') o.createdAt = ev.seq;
    }
    return ev.seq;
  }

  /** The running command creates an object of `type` (child of `parent`); returns its id. */
  create(type: string, parent = 0): number {
    const cmd = this.current();
    const id = this.objects.length;
    this.objects.push({ id, type, createdBy: this.commands[cmd.command], createdAt: cmd.beginSeq, destroyedAt: null, parent });
    cmd.object = id;
    return id;
  }

  allocate(size: number, scope: AllocationScope, options: EventOptions = {}): number {
    const address = this.take(size, options.alignment ?? 16);
    this.callback('allocate', { size, alignment: options.alignment ?? 16, scope: scopeIndex(scope), address }, options);
    this.sizes.set(address, size);
    return address;
  }

  /** An allocation the policy refused: NULL, nothing allocated. */
  failAllocate(size: number, scope: AllocationScope, options: EventOptions = {}): void {
    this.callback('allocate', { size, alignment: options.alignment ?? 16, scope: scopeIndex(scope), flags: EVENT_FLAGS.failed }, options);
  }

  reallocate(oldAddress: number, size: number, scope: AllocationScope, options: EventOptions = {}): number {
    const address = this.take(size, options.alignment ?? 16);
    this.callback('reallocate', { size, alignment: options.alignment ?? 16, scope: scopeIndex(scope), address, oldAddress }, options);
    this.sizes.delete(oldAddress);
    this.sizes.set(address, size);
    return address;
  }

  free(address: number, options: EventOptions = {}): void {
    this.callback('free', { address, size: this.sizes.get(address) ?? 0 }, options);
    this.sizes.delete(address);
  }

  internal(kind: 'internal-allocate' | 'internal-free', size: number, scope: AllocationScope, options: EventOptions = {}): void {
    this.callback(kind, { size, scope: scopeIndex(scope) }, options);
  }

  build(): TraceData {
    if (this.open.length) throw new Error(`build() with ${this.open.length} command(s) still open: call end()`);
    return this.buildPartial();
  }

  /** As build(), leaving open commands open (a trace stopped mid-command). */
  buildPartial(): TraceData {
    const column = <K extends keyof RawEvent>(key: K) => this.events.map((e) => e[key]);
    return {
      format: TRACE_FORMAT, version: TRACE_VERSION, meta: { ...this.meta }, count: this.events.length, dropped: this.dropped,
      seq: Float64Array.from(column('seq')), time: Float64Array.from(column('time')), kind: Uint8Array.from(column('kind')),
      scope: Uint8Array.from(column('scope')), flags: Uint8Array.from(column('flags')), size: Float64Array.from(column('size')),
      alignment: Float64Array.from(column('alignment')), address: Float64Array.from(column('address')),
      oldAddress: Float64Array.from(column('oldAddress')), command: Uint16Array.from(column('command')),
      thread: Uint8Array.from(column('thread')), object: Uint32Array.from(column('object')),
      commands: [...this.commands], objects: this.objects.map((o) => ({ ...o })), callSites: { ...this.callSites },
    };
  }

  private current(): OpenCommand {
    const cmd = this.open[this.open.length - 1];
    if (!cmd) throw new Error('no command is running: call begin() first');
    return cmd;
  }

  private commandIndex(name: string): number {
    const at = this.commands.indexOf(name);
    return at >= 0 ? at : this.commands.push(name) - 1;
  }

  private take(size: number, alignment: number): number {
    const address = Math.ceil(this.nextAddress / alignment) * alignment;
    this.nextAddress = address + Math.max(size, 1) + 64;
    return address;
  }

  private callback(kind: EventKind, fields: Partial<RawEvent>, options: EventOptions): void {
    const thread = options.thread ?? 0;
    const cmd = thread === 0 ? this.open[this.open.length - 1] : undefined;
    const flags = (fields.flags ?? 0) | (thread ? EVENT_FLAGS.offThread : 0) | (cmd ? 0 : EVENT_FLAGS.outsideCommand);
    const ev = this.push(kind, { ...fields, flags, thread, command: cmd ? cmd.command : 0, object: options.object ?? 0 });
    cmd?.events.push(ev);
  }

  private push(kind: EventKind, fields: Partial<RawEvent>): RawEvent {
    const ev: RawEvent = {
      seq: this.events.length, time: this.now, kind: EVENT_KINDS.indexOf(kind), scope: 0, flags: 0, size: 0, alignment: 0,
      address: 0, oldAddress: 0, command: 0, thread: 0, object: 0, ...fields,
    };
    this.now += this.step;
    this.events.push(ev);
    return ev;
  }
}

function scopeIndex(scope: AllocationScope): number {
  return ALLOCATION_SCOPES.indexOf(scope);
}

/**
 * A small app's trace with one case of every rule (the numbers are worked out in
 * test/trace/trace-analysis.test.ts): a command-scope block that outlives vkCreateBuffer, an
 * object-scope block that outlives its Buffer, a device-scope block that outlives the
 * Device, an unattributed instance-scope block that outlives the Instance, an off-thread
 * free after a submit, a failed allocation, a reallocation, internal notifications, and
 * blocks still live at the end under a live Instance and with no owner at all.
 */
export function sampleAppTrace(stamp: 'begin' | 'end' = 'begin') {
  const b = new TraceBuilder({ driver: 'synthetic', device: 'test device' }, stamp);
  b.begin('vkCreateInstance', 0, 'at main (app.js:3:20)');
  const instance = b.create('Instance');
  const a1 = b.allocate(4096, 'instance');
  const c1 = b.allocate(256, 'command');
  b.free(c1);
  const a2 = b.allocate(1000, 'instance', { alignment: 64 });
  const a2b = b.reallocate(a2, 2000, 'instance', { alignment: 64 });
  b.end();

  b.begin('vkEnumeratePhysicalDevices');
  const e1 = b.allocate(512, 'instance');
  b.end();

  b.begin('vkCreateDevice');
  const device = b.create('Device', instance);
  const d1 = b.allocate(8192, 'device');
  b.free(b.allocate(128, 'command'));
  b.internal('internal-allocate', 1000, 'device');
  b.end();

  b.begin('vkCreateBuffer', 0, 'at leaky (app.js:10:5)');
  const buffer1 = b.create('Buffer', device);
  const b1 = b.allocate(112, 'object');
  const l1 = b.allocate(64, 'command');
  b.end();

  b.begin('vkQueueSubmit');
  const q1 = b.allocate(160, 'object');
  b.end();
  b.advance(5000);
  b.free(q1, { thread: 1 });

  b.begin('vkCreateBuffer');
  const buffer2 = b.create('Buffer', device);
  const b2 = b.allocate(200, 'object');
  const d2 = b.allocate(300, 'device');
  b.end();

  b.begin('vkCreateBuffer');
  b.failAllocate(96, 'object');
  b.end(-1);

  b.begin('vkDestroyBuffer', buffer1);
  b.free(b1);
  b.end();
  b.begin('vkDestroyBuffer', buffer2);
  b.end();
  b.begin('vkDestroyDevice', device);
  b.free(d1);
  b.internal('internal-free', 1000, 'device');
  b.end();
  b.begin('vkDestroyInstance', instance);
  b.free(a1);
  b.free(a2b);
  b.end();

  b.begin('vkCreateInstance');
  const instance2 = b.create('Instance');
  const i2 = b.allocate(777, 'instance');
  b.end();
  const n1 = b.allocate(48, 'object', { thread: 2 });

  return {
    data: b.build(),
    objects: { instance, device, buffer1, buffer2, instance2 },
    blocks: { a1, a2, a2b, e1, d1, b1, l1, q1, b2, d2, i2, n1 },
  };
}
