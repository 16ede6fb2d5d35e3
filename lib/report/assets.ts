// The charting library the HTML report inlines: uPlot (MIT, github.com/leeoniya/uPlot),
// read from node_modules when a report is written, so the report needs no network.
import * as fs from 'fs';

export interface ChartLibrary {
  js: string;
  css: string;
}

let cached: ChartLibrary | null = null;

export function chartLibrary(): ChartLibrary {
  if (cached) return cached;
  let jsPath: string, cssPath: string;
  try {
    jsPath = require.resolve('uplot/dist/uPlot.iife.min.js');
    cssPath = require.resolve('uplot/dist/uPlot.min.css');
  } catch {
    throw new Error('The HTML report needs the uplot package (its dist/uPlot.iife.min.js and dist/uPlot.min.css): ' +
      'install it with: npm install uplot');
  }
  const js = fs.readFileSync(jsPath, 'utf8');
  // Inlined in a <script> element, which ends at the first "</script".
  if (/<\/script/i.test(js)) throw new Error(`${jsPath} contains "</script" and cannot be inlined`);
  cached = { js, css: fs.readFileSync(cssPath, 'utf8') };
  return cached;
}
