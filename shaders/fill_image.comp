#version 450
// Writes texel (x, y) of an r32ui storage image: (x << 16 | y) ^ seed.
// The workgroup is specialization constants 0 (x) and 1 (y).
layout(local_size_x_id = 0, local_size_y_id = 1) in;

layout(set = 0, binding = 0, r32ui) uniform writeonly uimage2D image;
layout(push_constant) uniform Push { uint width; uint height; uint seed; } pc;

void main() {
  uvec2 p = gl_GlobalInvocationID.xy;
  if (p.x >= pc.width || p.y >= pc.height) return;
  imageStore(image, ivec2(p), uvec4(((p.x << 16) | p.y) ^ pc.seed, 0u, 0u, 0u));
}
