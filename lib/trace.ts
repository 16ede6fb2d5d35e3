// A recorded allocation trace (see lib/trace-format.ts for its columns).
import type { TraceData } from './trace-format';

export class Trace {
  constructor(readonly data: TraceData) {}

  /** Number of events recorded. */
  get count(): number {
    return this.data.count;
  }
}
