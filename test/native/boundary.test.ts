// The boundary between C++ and TypeScript is defined once: the addon exports its
// layouts and names, and a drift between the two sides fails loudly at load.
import native from '../../lib/native/binding';
import { checkBoundary, EVENT_KINDS, SCOPE_NAMES, VIOLATION_NAMES } from '../../lib/native/boundary';

type Boundary = typeof native.boundary;
const clone = (): Boundary => JSON.parse(JSON.stringify(native.boundary)) as Boundary;

test('the loaded addon agrees with the TypeScript tables', () => {
  expect(() => checkBoundary(native.boundary)).not.toThrow();
  expect(native.boundary.scopeNames).toEqual([...SCOPE_NAMES]);
  expect(native.boundary.violationNames).toEqual([...VIOLATION_NAMES]);
  expect(native.boundary.eventKindCount).toBe(EVENT_KINDS.length);
  expect(native.boundary.traceEvent.bytes).toBe(56);
  // The frees, then the taken ready blocks, fill the shared array; the stock is an array of its own.
  const io = native.boundary.io;
  expect(io.takenStart).toBe(io.freesStart + io.freeCapacity);
  expect(io.length).toBe(io.takenStart + io.takenFields * io.takenCapacity);
  expect(io.readyStride).toBe(1 + io.readyCapacity);
});

test.each([
  ['a scope name', (b: Boundary) => { b.scopeNames[2] = 'pipeline-cache'; }, /scope names/],
  ['a violation added natively', (b: Boundary) => { b.violationNames.push('new-kind'); }, /violation names/],
  ['an event kind added natively', (b: Boundary) => { b.eventKindCount += 1; }, /event kinds/],
  ['an event flag renumbered', (b: Boundary) => { b.eventFlags.offThread = 8; }, /event flag offThread/],
  ['a misaligned trace field', (b: Boundary) => { b.traceEvent.object = 50; }, /trace event field object/],
])('a drift in %s is refused with what differs', (_what, change, message) => {
  const b = clone();
  change(b);
  expect(() => checkBoundary(b)).toThrow(message);
  expect(() => checkBoundary(b)).toThrow(/rebuild it/);
});
