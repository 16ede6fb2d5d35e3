#version 450
// Pass 1 of a prefix sum: the inclusive scan of each workgroup's slice of `data`
// (in place, in shared memory, no subgroup operations: nothing is assumed about the
// device's subgroup size), and each slice's total in `sums[slice]`. Applied to the
// totals again, and again, until one slice is left; scan_add.comp then adds the
// scanned totals back down.
//
// The workgroup size is specialization constant 0, chosen by the host within the
// device's limits. Workgroups may be laid out in 2D (when there are more slices than
// maxComputeWorkGroupCount[0]); surplus workgroups find nothing to do.
layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) buffer Data { uint data[]; };
layout(set = 0, binding = 1) writeonly buffer Sums { uint sums[]; };
layout(push_constant) uniform Push { uint count; } pc;

shared uint partial[gl_WorkGroupSize.x];

void main() {
  uint slice = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  uint local = gl_LocalInvocationID.x;
  uint index = slice * gl_WorkGroupSize.x + local;
  partial[local] = index < pc.count ? data[index] : 0u;
  barrier();
  // Hillis-Steele: after the step with `offset`, partial[i] sums the 2*offset elements ending at i.
  for (uint offset = 1u; offset < gl_WorkGroupSize.x; offset <<= 1) {
    uint before = local >= offset ? partial[local - offset] : 0u;
    barrier();
    partial[local] += before;
    barrier();
  }
  if (index < pc.count) data[index] = partial[local];
  if (local == gl_WorkGroupSize.x - 1u && slice * gl_WorkGroupSize.x < pc.count) sums[slice] = partial[local];
}
