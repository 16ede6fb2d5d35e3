#version 450
// Pass 2 of a prefix sum: adds to every element of slice s (s > 0) the inclusive scan
// of the slice totals up to s - 1, turning per-slice scans into a scan of the whole.
layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) buffer Data { uint data[]; };
layout(set = 0, binding = 1) readonly buffer Sums { uint sums[]; };
layout(push_constant) uniform Push { uint count; } pc;

void main() {
  uint slice = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  uint index = slice * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (slice > 0u && index < pc.count) data[index] += sums[slice - 1u];
}
