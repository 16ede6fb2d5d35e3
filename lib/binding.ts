// The one place the native module is loaded. Everything native goes through this
// typed handle (binding.d.ts is the contract).
import * as path from 'path';
import type * as Native from '../binding';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const nodeGypBuild: (root: string) => unknown = require('node-gyp-build');

// lib/ (sources under ts-jest) and dist/ (compiled) both sit one level below the package root.
const native = nodeGypBuild(path.join(__dirname, '..')) as typeof Native;

export default native;
export type { Native };
