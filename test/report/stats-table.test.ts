import { formatBytes } from '../../lib/report/stats-table';

test.each([
  [0, '0 B'],
  [1023, '1023 B'],
  [1024, '1.0 KiB'],
  [1536, '1.5 KiB'],
  [1048575, '1.00 MiB'],          // was "1024.0 KiB"
  [1048576, '1.00 MiB'],
  [2.62 * 1048576, '2.62 MiB'],
  [1073741823, '1.00 GiB'],
  [5 * 1073741824, '5.00 GiB'],    // was "5120.00 MiB"
  [3 * 1099511627776, '3.00 TiB'],
  [5000 * 1099511627776, '5000.00 TiB'],
])('formatBytes(%d) is %s', (n, shown) => {
  expect(formatBytes(n)).toBe(shown);
});
