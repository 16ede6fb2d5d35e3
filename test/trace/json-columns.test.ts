// Reading a trace file a window at a time (lib/trace/json-columns.ts, file-window.ts):
// through windows of every small size, so that each number, space and bracket falls on a
// window's edge somewhere, the columns come out as JSON.parse reads them, or the reader
// gives up (and the file is read the slow way); it never reads a wrong value.
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileWindow } from '../../lib/trace/file-window';
import { findMember, readColumns } from '../../lib/trace/json-columns';
import { decodeTrace, encodeTrace } from '../../lib/trace/file';
import { loadTrace } from '../../lib/trace/trace';
import { sampleAppTrace, TraceBuilder } from '../helpers/synthetic-trace';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkalloc-columns-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Columns of `count` numbers of every syntax the reader takes: small, large, inexact, fractions, exponents. */
function sampleColumns(count: number): Record<string, number[]> {
  const pick = (k: number, values: number[]) => values[k % values.length];
  return {
    seq: Array.from({ length: count }, (_, k) => k),
    big: Array.from({ length: count }, (_, k) => pick(k, [2 ** 53 - 1, 123456789012345680, 1e21, 281474976710656 + k])),
    small: Array.from({ length: count }, (_, k) => pick(k, [-5, 0, 0.25, 1e-7, -1.5e300, 3.141592653589793])),
  };
}

/** `columns` in the file text `prefix + columns + suffix` read through a window of `size` from the prefix's end. */
function readThrough(text: string, start: number, count: number, size: number): { columns: Record<string, number[]>; end: number } | null {
  const file = path.join(tmp, 'columns.json');
  fs.writeFileSync(file, text);
  const fd = fs.openSync(file, 'r');
  try {
    const columns: Record<string, number[]> = {};
    const end = readColumns(new FileWindow(fd, start, size), count, (name, values, from) => {
      if (from === 0) columns[name] = [];
      if (columns[name].length !== from) throw new Error(`column ${name}: batch from ${from} after ${columns[name].length} entries`);
      columns[name].push(...values);
      return true;
    });
    return end < 0 ? null : { columns, end };
  } finally {
    fs.closeSync(fd);
  }
}

describe('readColumns through a window', () => {
  const count = 40;
  const columns = sampleColumns(count);
  const prefix = '{"count":40,"columns":';
  const layouts = {
    compact: JSON.stringify(columns),
    pretty: JSON.stringify(columns, null, 2),
    spacious: JSON.stringify(columns).replace(/,/g, ' ,\n\t  ').replace(/\[/g, '[ \r\n'),
  };

  test.each(Object.entries(layouts))('%s: the values JSON.parse gives, through windows of every size from 256 bytes', (_name, layout) => {
    const text = `${prefix}${layout}, "after": 1}\n`;
    for (let size = 256; size <= 1024; size += 7) {
      const read = readThrough(text, prefix.length, count, size);
      expect({ size, ...read }).toEqual({ size, columns, end: prefix.length + layout.length });
    }
  });

  test.each(Object.entries(layouts))('%s: through smaller windows, the right values or none', (_name, layout) => {
    const text = `${prefix}${layout}}`;
    let read = 0;
    for (let size = 1; size < 256; size++) {
      const result = readThrough(text, prefix.length, count, size);
      if (result) {
        expect({ size, ...result }).toEqual({ size, columns, end: prefix.length + layout.length });
        read++;
      }
    }
    expect(read).toBeGreaterThan(100);
  });

  test('a column of the wrong length, a file cut short, or text that is no number: none', () => {
    const layout = layouts.compact;
    for (const size of [64, 300, 1 << 20]) {
      expect(readThrough(layout, 0, count - 1, size)).toBeNull();
      expect(readThrough(layout, 0, count + 1, size)).toBeNull();
      for (const bad of [layout.replace('0.25', '0.2x'), layout.replace(',5,', ',05,'), layout.replace('-5', '- 5'), layout.replace('[', '[,')]) {
        expect(readThrough(bad, 0, count, size)).toBeNull();
      }
    }
    for (let cut = 0; cut < layout.length; cut += 3) {
      expect(readThrough(layout.slice(0, cut), 0, count, cut % 2 ? 64 : 1 << 20)).toBeNull();
    }
  });

  test('empty columns', () => {
    expect(readThrough('{"a": [ ], "b":[]}', 0, 0, 64)).toEqual({ columns: { a: [], b: [] }, end: 18 });
    expect(readThrough('{ }', 0, 0, 64)).toEqual({ columns: {}, end: 3 });
  });
});

describe('findMember', () => {
  test('in every prefix of a trace file: "more" until the member starts, then where it starts', () => {
    const bytes = Buffer.from(JSON.stringify(encodeTrace(sampleAppTrace().data), null, 1));
    const full = findMember(bytes, 'columns');
    if (full === null || full === 'more') throw new Error('no columns found');
    expect(bytes.toString('latin1', full.start, full.start + 7)).toBe('{\n  "se');
    expect([...full.before.keys()]).toEqual(['format', 'version', 'meta', 'count', 'dropped', 'commands', 'objects', 'callSites']);
    for (let length = 0; length < bytes.length; length++) {
      const found = findMember(bytes.subarray(0, length), 'columns');
      if (length <= full.start) expect({ length, found }).toEqual({ length, found: 'more' });
      else expect({ length, found }).toEqual({ length, found: full });
    }
  });

  test('null for what is no object of plain-named members', () => {
    for (const text of ['[1]', 'x', '"columns"', '{"a":1 "columns":2}', '{"\\u0061":1,"columns":2}', '{1:2}']) {
      expect(findMember(Buffer.from(text), 'columns')).toBeNull();
    }
  });
});

describe('loadTrace of a file larger than its window', () => {
  test('a head of over 1 MiB (objects, call sites), columns over many windows: what JSON.parse gives, the columns not through it', () => {
    const b = new TraceBuilder();
    for (let k = 0; k < 8000; k++) {
      b.begin('vkCreateBuffer', 0, `at makeBuffer (/home/someone/project/app.js:${k}:17)`);
      b.create('Buffer');
      b.allocate(64 + (k % 1000), 'object');
      if (k % 7 === 0) b.advance(0.25);  // times that are not integers
      b.end();
    }
    const value = encodeTrace(b.build());
    const file = path.join(tmp, 'large.json');
    for (const text of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
      fs.writeFileSync(file, text);
      expect(text.indexOf('"columns"')).toBeGreaterThan(1 << 20);
      const parse = jest.spyOn(JSON, 'parse');
      try {
        const loaded = loadTrace(file).data;
        expect(parse.mock.calls.some(([t]) => /"seq"\s*:\s*\[/.test(String(t)))).toBe(false);
        expect(loaded).toEqual(decodeTrace(JSON.parse(text), file));
      } finally {
        parse.mockRestore();
      }
    }
  });
});

describe('loadTrace of what cannot be read at positions', () => {
  test('a FIFO: read whole, through its one open', () => {
    const value = encodeTrace(sampleAppTrace().data);
    const file = path.join(tmp, 'piped.json');
    const fifo = path.join(tmp, 'trace.fifo');
    fs.writeFileSync(file, JSON.stringify(value));
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', 'cat "$0" > "$1"', file, fifo], { stdio: 'ignore' });
    try {
      expect(loadTrace(fifo).data).toEqual(decodeTrace(value, fifo));
    } finally {
      writer.kill();
    }
  });
});
