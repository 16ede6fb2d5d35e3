// The streamed Chrome export (lib/trace/chrome.ts on replay.ts and json-writer.ts): its
// text is JSON.stringify(toChromeTrace()), which rests on Trace's own replay, so every
// case where the two replays could part is checked here: runs left unfinished, nested
// or at the end; addresses handed out twice; frees of unknown blocks; odd object ids;
// names longer than the writer's buffer. Then the writer's numbers, one by one.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Trace } from '../../lib/trace/trace';
import { JsonWriter, piece } from '../../lib/trace/json-writer';
import type { TraceData } from '../../lib/trace/format';
import { sampleAppTrace, TraceBuilder } from '../helpers/synthetic-trace';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-chrome-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Expects the streamed file to be the object's JSON, to the byte; returns the parsed events. */
function expectStreamedSame(data: TraceData, name: string) {
  const file = path.join(tmp, `${name}.json`);
  new Trace(data).writeChromeTrace(file);
  const text = fs.readFileSync(file, 'utf8');
  const expected = JSON.stringify(new Trace(data).toChromeTrace());
  if (text !== expected) expect(text.slice(0, 2000)).toBe(expected.slice(0, 2000));  // a readable diff where they part early
  expect(text === expected).toBe(true);
  return JSON.parse(text).traceEvents as { name: string; ph: string; dur?: number; args: Record<string, unknown> }[];
}

/** `data` with event rows removed (a recorder that dropped them). */
function without(data: TraceData, ...rows: number[]): TraceData {
  const keep = (_: unknown, k: number) => !rows.includes(k);
  const out = { ...data, count: data.count - rows.length } as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(data)) {
    if (ArrayBuffer.isView(value)) out[key] = (value as Float64Array).filter(keep);
  }
  return out as unknown as TraceData;
}

const rowOf = (data: TraceData, seq: number) => data.seq.indexOf(seq);

describe('streamed Chrome export: the text of JSON.stringify(toChromeTrace())', () => {
  test('the sample trace, and its columns out of seq order', () => {
    const { data } = sampleAppTrace();
    expectStreamedSame(data, 'sample');
    const reversed = Object.fromEntries(Object.entries(data).map(([key, value]) =>
      [key, ArrayBuffer.isView(value) ? (value as Float64Array).slice().reverse() : value])) as unknown as TraceData;
    expectStreamedSame(reversed, 'reversed');
  });

  test('runs left unfinished: inside a run that ended (its end dropped), and where the trace stopped', () => {
    const b = new TraceBuilder();
    b.begin('vkCreateInstance');
    b.create('Instance');
    b.begin('vkEnumerateInstanceVersion');
    b.allocate(64, 'command');
    const innerEnd = b.end();
    b.allocate(128, 'instance');
    b.end();
    b.begin('vkCreateDevice');
    b.begin('vkAllocateMemory');
    b.allocate(32, 'object');
    const data = without(b.buildPartial(), rowOf(b.buildPartial(), innerEnd));
    const events = expectStreamedSame(data, 'unfinished');
    const runs = events.filter((e) => e.ph === 'X');
    expect(runs.map((e) => [e.name, e.args.unfinished ?? false])).toEqual([
      ['vkCreateInstance', false], ['vkEnumerateInstanceVersion', true], ['vkCreateDevice', true], ['vkAllocateMemory', true],
    ]);
  });

  test.each([['the old block made first', true], ['the old block made last', false]])(
    'a reallocation to an address still live (a free dropped), %s: oldSize as the object export gives it', (_, oldFirst) => {
      const b = new TraceBuilder();
      b.begin('vkCreateInstance');
      b.create('Instance');
      const first = b.allocate(100, 'instance');
      const second = b.allocate(200, 'device');
      const [old, live] = oldFirst ? [first, second] : [second, first];
      b.reallocate(old, 300, 'object');
      b.end();
      const data = b.build();
      data.address[data.kind.indexOf(1)] = live;  // the reallocate's new address
      const events = expectStreamedSame(data, `realloc-${oldFirst}`);
      // The last block to end at the reallocation: the one made last, whichever it is.
      expect(events.find((e) => e.name === 'reallocate')!.args.oldSize).toBe(200);
      expect(new Trace(data).summary().liveBytes).toBe(300);
    });

  test('frees of unknown and NULL blocks, an address allocated twice, off-thread callbacks, object ids past the table', () => {
    const b = new TraceBuilder();
    b.begin('vkCreateInstance');
    b.create('Instance');
    const a = b.allocate(100, 'instance');
    b.free(0x7777);
    b.free(0);
    b.allocate(64, 'command', { thread: 3, object: 99 });
    b.allocate(40, 'instance');
    b.end();
    b.free(a, { thread: 1 });
    const data = b.build();
    data.address[data.size.indexOf(40)] = a;  // handed out again while live
    expectStreamedSame(data, 'odd');
  });

  test('names longer than the writer\'s buffer, not ASCII; numbers past 32 bits; times with fractions of a µs', () => {
    const long = `Ünïcode ${'x'.repeat(1.5 * (1 << 20))}`;
    const b = new TraceBuilder({ driver: 'synthetic ✓', note: long });
    b.step = 1234567;
    b.begin(`vkCreate${'Ω'.repeat(70)}`, 0, long);
    b.create(long);
    const big = b.allocate(2 ** 40 + 3, 'instance', { alignment: 2 ** 33 });
    b.allocate(5e9 + 7, 'device');
    b.end();
    b.advance(2 ** 42);
    b.begin('vkDestroyInstance', 1);
    b.free(big);
    b.end(-1000000013);
    const data = b.build();
    // An address with a high word, and a low one with zeros to keep.
    for (const row of [data.size.indexOf(2 ** 40 + 3), data.kind.indexOf(2)]) data.address[row] = 2 ** 52 + 0x10;
    const events = expectStreamedSame(data, 'long');
    expect(events.find((e) => e.name === 'allocate')!.args.address).toBe('0x10000000000010');
  });
});

describe('JsonWriter', () => {
  const written = (write: (out: JsonWriter) => void) => {
    const file = path.join(tmp, 'writer.json');
    const out = new JsonWriter(file);
    write(out);
    out.close();
    return fs.readFileSync(file, 'utf8');
  };
  const odd = [-0, -1, 0.5, NaN, Infinity, 2 ** 53, 1e21, -(2 ** 31)];

  test('numbers as JSON.stringify writes them', () => {
    const values = [0, 1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 999999999, 1e9, 1e9 + 1, 123456789012345, 2 ** 53 - 1, ...odd];
    expect(written((out) => values.forEach((n) => { out.number(n); out.text(','); }))).toBe(values.map((n) => `${JSON.stringify(n)},`).join(''));
  });

  test('times in ns as the JSON of µs', () => {
    const values = [0, 1, 10, 100, 999, 1000, 1001, 1010, 1100, 123456789, 2 ** 31 * 1000 + 7, 1e15 - 1, 1e15, 2 ** 53 - 1, -5, 1.5, ...odd];
    expect(written((out) => values.forEach((n) => { out.micros(n); out.text(','); }))).toBe(values.map((n) => `${JSON.stringify(n / 1000)},`).join(''));
  });

  test('addresses as "0x" and hex digits', () => {
    const values = [0, 1, 0xf, 0x10, 0xffffffff, 2 ** 32, 2 ** 32 + 0x10, 0x7f1200000040, 2 ** 53 - 1, -16, ...odd];
    expect(written((out) => values.forEach((n) => { out.address(n); out.text(','); })))
      .toBe(values.map((n) => `${JSON.stringify(`0x${n.toString(16)}`)},`).join(''));
  });

  test('pieces and text of every length, past the buffer\'s end and larger than it', () => {
    const parts = ['{', 'é'.repeat(17), 'ab', '€'.repeat(400000), 'z'.repeat(1.2 * (1 << 20)), '"', '✓'.repeat(5)];
    const expected: string[] = [];
    const text = written((out) => {
      for (let k = 0; k < 6; k++) {
        for (const p of parts) {
          expected.push(p);
          if (k % 2) out.text(p);
          else out.piece(piece(p));
        }
      }
    });
    expect(text === expected.join('')).toBe(true);
  });
});
