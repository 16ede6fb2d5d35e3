#!/usr/bin/env node
// The trace-export measure of bench/run.js, one step per process so that each peak
// RSS is its own:
//   node bench/trace-export.js record FILE N    N vkCreateInstance+Destroy on lavapipe, traced; writes FILE
//   node bench/trace-export.js export FILE OUT [chrome|perfetto]
//                                               loads FILE, writes its Chrome JSON (the default)
//                                               or its Perfetto protobuf trace to OUT
// Prints one line of JSON: bytes written, milliseconds, the process's peak RSS (VmHWM), and
// its RSS before the work began, modules loaded (baselineRss: Node and vkalloc alone, which
// no export can go below; peakRss - baselineRss is what the work itself took).
'use strict';
const fs = require('fs');
const v = require('../dist/index.js');

/** A field of /proc/self/status in bytes: VmHWM (peak RSS) or VmRSS (RSS now). */
function status(field) {
  const m = new RegExp(`${field}:\\s*(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const [mode, file, arg, format = 'chrome'] = process.argv.slice(2);
const baselineRss = status('VmRSS');
const t0 = process.hrtime.bigint();
if (mode === 'record') {
  const allocator = new v.HostAllocator();
  allocator.startTrace();
  for (let i = 0; i < Number(arg); i++) v.createInstance({ driver: 'lavapipe' }, { allocator }).destroy();
  allocator.stopTrace({ driver: 'lavapipe' }).save(file);
} else if (mode === 'export' && format === 'perfetto') {
  v.loadTrace(file).writePerfettoTrace(arg);
} else if (mode === 'export' && format === 'chrome') {
  const trace = v.loadTrace(file);
  // The streamed writer where there is one (what `vkalloc report --chrome` uses), else the object.
  if (typeof trace.writeChromeTrace === 'function') trace.writeChromeTrace(arg);
  else fs.writeFileSync(arg, JSON.stringify(trace.toChromeTrace()));
} else {
  console.error('usage: trace-export.js record FILE N | export FILE OUT [chrome|perfetto]');
  process.exit(2);
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const out = mode === 'record' ? file : arg;
console.log(JSON.stringify({ bytes: fs.statSync(out).size, ms, peakRss: status('VmHWM'), baselineRss }));
