// Process memory stays flat in the loops users run with the default TypeScript policy,
// measured as RSS in child processes (scripts/soak.js; `npm run soak` runs them longer):
// device cycles and instance cycles on each driver, allocators dropped without
// dispose() with gc(), native chunks of mixed sizes. Each child warms up, then runs
// three rounds; the growth from the first reading after warm-up to the last must stay
// within what the same loop with the driver's own allocator (NULL) shows, plus twice
// its spread (at least 2 MiB; 4 for dropped allocators). Before the fix these grew by
// tens of MiB a round (glibc heap holes left by posix_memalign'd chunks; dropped
// policies kept alive).
import * as path from 'path';
import { DRIVERS } from '../helpers/drivers';

interface SoakSpec { workload: string; driver: string; mode: 'null' | 'ts'; warmup: number; rounds: number; per: number; turn?: boolean }
interface SoakResult extends SoakSpec { rss: number[]; msPerStep: number }

const { soak, growth } = require(path.join(__dirname, '..', '..', 'scripts', 'soak.js')) as {
  soak(spec: SoakSpec): Promise<SoakResult>;
  growth(result: SoakResult): { grew: number; spread: number };
};

const MiB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MiB).toFixed(1);

/** Growth allowed, from a NULL-allocator run of the same kind, and at least `floor`. */
function allowance(baseline: SoakResult, floor: number): number {
  const b = growth(baseline);
  return Math.max(0, b.grew) + Math.max(floor, 2 * b.spread);
}

function check(label: string, result: SoakResult, baseline: SoakResult, floor = 2 * MiB): void {
  const grew = growth(result).grew;
  const allowed = allowance(baseline, floor);
  console.log(`${label}: RSS ${result.rss.map(mib).join(' → ')} MiB (${mib(grew)} MiB; allowed ${mib(allowed)}, ` +
    `NULL ${baseline.rss.map(mib).join(' → ')})`);
  expect({ label, grewMiB: Number(mib(grew)), withinAllowance: grew <= allowed }).toEqual(
    { label, grewMiB: Number(mib(grew)), withinAllowance: true });
}

/** The loop with the TypeScript policy and with NULL, side by side. */
async function pair(spec: Omit<SoakSpec, 'mode'>): Promise<[SoakResult, SoakResult]> {
  return Promise.all([soak({ ...spec, mode: 'ts' }), soak({ ...spec, mode: 'null' })]);
}

jest.setTimeout(120000);

// Under `npm run test:asan` every process allocates through ASan's allocator, whose
// quarantine holds freed memory back: RSS says nothing about vkalloc there.
const rssMeaningful = process.env.VKALLOC_ASAN_ADDON === undefined;
const maybe = rssMeaningful ? describe : describe.skip;

maybe.each(DRIVERS.map((d) => [d.driver]))('RSS of loops on %s', (driver) => {
  test('device cycles with one allocator for instance and device', async () => {
    const [ts, base] = await pair({ workload: 'device', driver, warmup: 20, rounds: 3, per: 20 });
    check(`device cycles on ${driver}`, ts, base);
  });

  test('instance+device cycles with one allocator', async () => {
    const [ts, base] = await pair({ workload: 'instance', driver, warmup: 8, rounds: 3, per: 8 });
    check(`instance cycles on ${driver}`, ts, base);
  });
});

maybe('RSS of loops with dropped allocators and raw chunks', () => {
  test('allocators dropped after one instance each are given back after gc()', async () => {
    const driver = DRIVERS[0].driver;
    // RSS still climbs ~50 KiB per dropped allocator for the first ~100 (the heap finding
    // its shape; flat from ~150 on, measured over 250): with 20, the growth after warm-up
    // was 0.5 to 3.4 MiB, about the 2 MiB allowed. A leak of the old kind is 36 MiB here.
    const [ts, base] = await pair({ workload: 'dropped', driver, warmup: 150, rounds: 3, per: 10, turn: true });
    // 4 MiB: under the validation run of `npm test` (two jest workers busy beside it)
    // this loop once grew 2.1 MiB after warm-up, flat when run alone (-0.3 to 0.5 MiB
    // in 6 runs beside two CPU hogs); what it is here to catch grew 36 MiB.
    check(`dropped allocators on ${driver}`, ts, base, 4 * MiB);
  });

  test('native chunks of mixed sizes obtained and released', async () => {
    // No allocator to compare with: the bound comes from a NULL-allocator device loop.
    const [chunks, base] = await Promise.all([
      soak({ workload: 'chunks', driver: '-', mode: 'ts', warmup: 20, rounds: 3, per: 20 }),
      soak({ workload: 'device', driver: DRIVERS[0].driver, mode: 'null', warmup: 20, rounds: 3, per: 20 }),
    ]);
    check('chunk obtain/release', chunks, base);
  });
});
