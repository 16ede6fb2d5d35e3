#version 450
// dst[i] = f(src[i]) * params.mul + params.add + BIAS, where f squares when SQUARE is
// set: a uniform buffer, two storage buffers, a push constant and specialization
// constants of three types (uint workgroup size, bool, int).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool SQUARE = false;
layout(constant_id = 2) const int BIAS = 0;

layout(set = 0, binding = 0) uniform Params { uint mul; uint add; } params;
layout(set = 0, binding = 1) readonly buffer Src { uint src[]; };
layout(set = 0, binding = 2) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform Push { uint count; } pc;

void main() {
  uint index = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (index >= pc.count) return;
  uint v = src[index];
  if (SQUARE) v = v * v;
  dst[index] = v * params.mul + params.add + uint(BIAS);
}
