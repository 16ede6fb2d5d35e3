// The layer's trace format (lib/trace/stream-format.ts) read by hand-written records, and
// the generated intercepts (native/layer/generated/) checked against the registry.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseStream } from '../../lib/trace/stream-format';
import { Trace } from '../../lib/trace/trace';
import { ROOT } from './helpers';

const REGISTRY = '/usr/share/vulkan/registry/vk.xml';

const lines = (...records: string[][]) => `vkalloc-stream\t1\n${records.map((r) => r.join('\t')).join('\n')}\n`;

// Instance created on thread 1; a buffer created and destroyed; a driver thread (2) frees
// outside any command; the main thread's commands are the spans.
const SAMPLE: string[][] = [
  ['M', 'program', 'app'], ['M', 'device', 'A'], ['M', 'device', 'B'], ['M', 'device', 'A'],
  ['T', '1', '100'], ['C', '5', 'vkCreateInstance'],
  ['B', '1', '10', '1', '5', '0'],
  ['a', '2', '11', '1', '5', '4', '64', '8', 'aa0', '0', '0', '0'],
  ['O', '3', '12', '1', '5', '1000', 'Instance', '0'],
  ['E', '4', '13', '1', '5', '0'],
  ['C', '6', 'vkCreateBuffer'],
  ['B', '5', '20', '1', '6', '0'],
  ['a', '6', '21', '1', '6', '1', '32', '16', 'bb0', '0', '16', '0'],
  ['O', '7', '22', '1', '6', '2000', 'Buffer', '1000'],
  ['E', '8', '23', '1', '6', '0'],
  ['T', '2', '101'], ['C', '0', 'none'],
  ['a', '9', '24', '2', '0', '0', '8', '8', 'cc0', '0', '0', '0'],
  ['f', '10', '25', '2', '0', '0', '8', '8', 'cc0', '0', '0', '0'],
  ['C', '7', 'vkDestroyBuffer'],
  ['B', '11', '30', '1', '7', '2000'],
  ['f', '12', '31', '1', '7', '1', '32', '16', 'bb0', '0', '16', '2000'],
  ['E', '13', '32', '1', '7', '0'],
  ['a', '14', '33', '1', '6', '1', '99', '8', '0', '0', '9', '0'],
  ['X', '15', '40', '1', '64', '7', '1', '0'],
];

describe('the layer trace format', () => {
  test('converts to TraceData: spans of the main thread, objects, attribution, off-thread events', () => {
    const s = parseStream(lines(...SAMPLE), 'sample');
    expect(s.exit).toEqual({ liveCount: 1, liveBytes: 64, counted: 7, refused: 1, violations: 0 });
    expect(s.meta.device).toEqual(['A', 'B', 'A']);
    expect(s.appCalls).toEqual({ allocate: 1, reallocate: 0, free: 1, internal: 0 });
    expect(s.refusals).toEqual([{ seq: 14, command: 'vkCreateBuffer', size: 99, scope: 1, thread: 0 }]);
    const trace = new Trace(s.data);
    expect(trace.meta.device).toBe('A; B');
    expect(trace.data.objects.map((o) => [o.type, o.createdBy, o.createdAt, o.destroyedAt, o.parent])).toEqual([
      ['', 'none', 0, null, 0], ['Instance', 'vkCreateInstance', 1, null, 0], ['Buffer', 'vkCreateBuffer', 5, 11, 1]]);
    const summary = trace.summary();
    expect(summary.calls).toMatchObject({ allocate: 4, free: 2 });  // calls count the refused one too
    expect(summary.offThreadCalls).toMatchObject({ allocate: 1, free: 1 });
    expect(summary.failures).toBe(1);
    expect(trace.commandSpans().map((x) => [x.command, x.allocations, x.frees])).toEqual([
      ['vkCreateInstance', 1, 0], ['vkCreateBuffer', 1, 0], ['vkDestroyBuffer', 0, 1]]);
    expect(trace.blocks().map((b) => [b.command, b.object, b.thread])).toEqual([
      ['vkCreateInstance', 1, 0], ['vkCreateBuffer', 2, 0], ['none', 0, 1]]);
    expect(trace.leaks()).toEqual([]);
    expect(trace.stillLive().map((b) => [b.command, b.reason])).toEqual([['vkCreateInstance', 'owner alive']]);
  });

  test('a trace cut by a crash: NUL padding and a half-written record are ignored', () => {
    const whole = lines(...SAMPLE.slice(0, 12));
    const cut = `${whole}a\t7\t2${'\0'.repeat(4096)}`;
    const s = parseStream(cut, 'cut');
    expect(s.truncated).toBe(true);
    expect(s.exit).toBeNull();
    expect(s.data.count).toBe(parseStream(whole, 'whole').data.count);
    expect(new Trace(s.data).meta.ended).toMatch(/without a normal exit/);
  });

  test('the size limit record marks the trace incomplete', () => {
    const s = parseStream(lines(...SAMPLE.slice(0, 8), ['Z', '3'], ['X', '15', '40', '1', '64', '7', '1', '0']), 'full');
    expect(s.limitReached).toBe(true);
    expect(s.data.meta.incomplete).toMatch(/VKALLOC_TRACE_LIMIT/);
  });

  test('bad input names the file, the line and what is wrong', () => {
    expect(() => parseStream('{"format": "vkalloc-trace"}', 'x.json')).toThrow('x.json is not a vkalloc layer trace: expected a first line "vkalloc-stream\t1"');
    expect(() => parseStream('vkalloc-stream\t2\n', 'v2.txt')).toThrow('v2.txt is a vkalloc layer trace of version "2"; this vkalloc reads version 1 only');
    expect(() => parseStream(lines(['Q', '1']), 'q.txt')).toThrow('q.txt:2: not a valid vkalloc layer trace record (unknown record type "Q")');
    expect(() => parseStream(lines(['B', 'x', '1', '1', '1', '0']), 'b.txt')).toThrow('b.txt:2: not a valid vkalloc layer trace record (field 1 of "B" is "x")');
  });
});

describe('the generated intercepts', () => {
  (fs.existsSync(REGISTRY) ? test : test.skip)(`match ${REGISTRY} (node scripts/gen-layer.js --check)`, () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-layer.js'), '--check', '--registry', REGISTRY], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('cover creates and destroys with their callbacks, and every command names itself', () => {
    const source = fs.readFileSync(path.join(ROOT, 'native', 'layer', 'generated', 'layer_dispatch.cc'), 'utf8');
    const intercepts = source.match(/static VKAPI_ATTR [\w ]+ VKAPI_CALL L_vk\w+\(/g) ?? [];
    expect(intercepts.length).toBeGreaterThan(500);
    const body = (name: string) => source.slice(source.indexOf(`L_${name}(`), source.indexOf('\n}\n', source.indexOf(`L_${name}(`)));
    expect(body('vkCreateBuffer')).toMatch(/CallbacksFor\(pAllocator\)[\s\S]*CreateBuffer\(device, pCreateInfo, a, pBuffer\)[\s\S]*cmd\.Created\(s->objects, "Buffer"/);
    expect(body('vkDestroyBuffer')).toMatch(/Command cmd\(\d+, Handle\(buffer\), true\)[\s\S]*cmd\.Destroying\(s->objects, Handle\(buffer\), pAllocator\)[\s\S]*DestroyBuffer\(device, buffer, a\)/);
    expect(body('vkCreateComputePipelines')).toMatch(/for \(uint32_t i = 0; pPipelines && i < static_cast<uint32_t>\(createInfoCount\)/);
    expect(body('vkCmdDispatch')).toMatch(/Command cmd\(\d+\);\n {2}s->next\.CmdDispatch\(commandBuffer, groupCountX, groupCountY, groupCountZ\);/);
  });
});
