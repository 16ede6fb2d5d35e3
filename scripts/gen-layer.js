#!/usr/bin/env node
// Generates the vkalloc layer's dispatch tables and command intercepts from the Vulkan
// registry (vk.xml) into native/layer/generated/, which is committed: building needs no
// registry, and a registry update shows as a diff.
//
//   node scripts/gen-layer.js [--registry /usr/share/vulkan/registry/vk.xml] [--out DIR] [--check]
//
// Which commands: every command of the "vulkan" API that vulkan_core.h declares (core
// versions and extensions without a platform; platform and provisional ones need their
// own headers and pass through the layer untouched). Each is put in the instance chain
// (first parameter VkInstance or VkPhysicalDevice) or the device chain (VkDevice, VkQueue,
// VkCommandBuffer); global commands (vkCreateInstance, vkEnumerateInstance*) and the ones
// native/layer/layer.cc writes by hand are left out of the intercepts but keep their slot.
//
// Every intercept names its command on the calling thread for the time of the call (so
// allocation callbacks are attributed to it). Commands with pAllocator also swap the
// callbacks: creates get the layer's (or the wrapped app's) callbacks and record the
// handles they made; destroys get what the create got (native/layer/layer.h).
// --check: exit 1 if the files on disk differ from what would be generated (a test runs it).
// Only Node's built-in modules.
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

function parseArgs(argv) {
  const opts = { registry: '/usr/share/vulkan/registry/vk.xml', out: path.join(ROOT, 'native', 'layer', 'generated'), check: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--registry') opts.registry = argv[++i];
    else if (argv[i] === '--out') opts.out = argv[++i];
    else if (argv[i] === '--check') opts.check = true;
    else throw new Error(`gen-layer: unknown option ${argv[i]}`);
  }
  return opts;
}

// ---- registry parsing (vk.xml is regular enough for a few regular expressions) ----

const attr = (tag, name) => {
  const m = new RegExp(`\\b${name}="([^"]*)"`).exec(tag);
  return m ? m[1] : null;
};
const stripTags = (s) => s.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();

function parseRegistry(xml) {
  // Handle types: name -> { dispatchable, alias }.
  const handles = new Map();
  for (const m of xml.matchAll(/<type\b[^>]*category="handle"[^>]*[^/]>(.*?)<name>(\w+)<\/name>\)<\/type>/g)) {
    handles.set(m[2], { dispatchable: m[1].includes('VK_DEFINE_HANDLE<'), alias: null });
  }
  for (const m of xml.matchAll(/<type\b([^>]*category="handle"[^>]*)\/>/g)) {
    handles.set(attr(m[1], 'name'), { dispatchable: null, alias: attr(m[1], 'alias') });
  }
  const canonicalHandle = (t) => {
    let h = handles.get(t);
    while (h && h.alias) { t = h.alias; h = handles.get(t); }
    return h ? t : null;
  };

  // Commands: name -> { ret, params: [{ type, name, decl, pointer, constant, len }] } or { alias }.
  const commands = new Map();
  const section = /<commands[^>]*>([\s\S]*?)<\/commands>/.exec(xml)[1];
  for (const m of section.matchAll(/<command\b([^>]*?)(\/>|>([\s\S]*?)<\/command>)/g)) {
    const tagAttrs = m[1];
    const api = attr(tagAttrs, 'api');
    if (api && !api.split(',').includes('vulkan')) continue;
    if (m[2] === '/>') {
      commands.set(attr(tagAttrs, 'name'), { alias: attr(tagAttrs, 'alias') });
      continue;
    }
    // <implicitexternsyncparams> holds prose <param>s, not parameters.
    const body = m[3].replace(/<implicitexternsyncparams>[\s\S]*?<\/implicitexternsyncparams>/g, '');
    const proto = /<proto>([\s\S]*?)<\/proto>/.exec(body)[1];
    const name = /<name>(\w+)<\/name>/.exec(proto)[1];
    const ret = stripTags(proto.replace(/<name>\w+<\/name>/, ''));
    const params = [];
    for (const p of body.matchAll(/<param\b([^>]*)>([\s\S]*?)<\/param>/g)) {
      const papi = attr(p[1], 'api');
      if (papi && !papi.split(',').includes('vulkan')) continue;
      const inner = p[2];
      const type = /<type>(\w+)<\/type>/.exec(inner)[1];
      const pname = /<name>(\w+)<\/name>/.exec(inner)[1];
      const decl = stripTags(inner);
      const afterType = inner.split('</type>')[1] || '';
      params.push({
        type, name: pname, decl,
        pointer: /\*/.test(afterType.split('<name>')[0]),
        constant: /^\s*const\b/.test(inner),
        len: attr(p[1], 'len'),
      });
    }
    commands.set(name, { ret, params });
  }

  // Which commands vulkan_core.h declares.
  const declared = new Set();
  const requireCommands = (block) => {
    for (const r of block.matchAll(/<require\b([^>]*)>([\s\S]*?)<\/require>/g)) {
      const rapi = attr(r[1], 'api');
      if (rapi && !rapi.split(',').includes('vulkan')) continue;
      for (const c of r[2].matchAll(/<command name="(\w+)"/g)) declared.add(c[1]);
    }
  };
  for (const f of xml.matchAll(/<feature\b([^>]*)>([\s\S]*?)<\/feature>/g)) {
    if ((attr(f[1], 'api') || '').split(',').includes('vulkan')) requireCommands(f[2]);
  }
  for (const e of xml.matchAll(/<extension\b([^>]*)>([\s\S]*?)<\/extension>/g)) {
    const supported = (attr(e[1], 'supported') || '').split(',');
    if (!supported.includes('vulkan') || attr(e[1], 'platform')) continue;
    requireCommands(e[2]);
  }
  return { handles, canonicalHandle, commands, declared };
}

// ---- classification ----

const HAND_WRITTEN = new Set([
  'vkGetInstanceProcAddr', 'vkGetDeviceProcAddr', 'vkCreateInstance', 'vkDestroyInstance', 'vkCreateDevice', 'vkDestroyDevice',
  'vkEnumeratePhysicalDevices',
]);
// Answered from the layer's manifest by the loader, or about layers themselves: pass through.
const PASS_THROUGH = new Set(['vkEnumerateDeviceLayerProperties', 'vkEnumerateDeviceExtensionProperties']);
const INSTANCE_FIRST = new Set(['VkInstance', 'VkPhysicalDevice']);
const DEVICE_FIRST = new Set(['VkDevice', 'VkQueue', 'VkCommandBuffer']);

function classify(reg) {
  const out = [];
  for (const name of [...reg.declared].sort()) {
    let cmd = reg.commands.get(name);
    if (!cmd) continue;
    for (let hops = 0; cmd && cmd.alias && hops < 8; hops++) cmd = reg.commands.get(cmd.alias);
    if (!cmd || !cmd.params) continue;
    const first = cmd.params[0] && cmd.params[0].type;
    const chain = INSTANCE_FIRST.has(first) ? 'instance' : DEVICE_FIRST.has(first) ? 'device' : null;
    if (!chain) continue;  // global commands: the loader and layer.cc handle them
    const allocatorIndex = cmd.params.findIndex((p) => p.name === 'pAllocator' && p.type === 'VkAllocationCallbacks');
    let role = 'plain';
    let target = null;
    if (allocatorIndex >= 0) {
      const last = cmd.params[cmd.params.length - 1];
      const lastHandle = last.pointer && !last.constant ? reg.canonicalHandle(last.type) : null;
      if (/^vk(Destroy|Free)/.test(name)) {
        const p = cmd.params[allocatorIndex - 1];
        const h = p && !p.pointer ? reg.canonicalHandle(p.type) : null;
        if (h && allocatorIndex > 0) { role = 'destroy'; target = { param: p.name, type: h }; }
      } else if (lastHandle) {
        role = 'create';
        target = { param: last.name, type: lastHandle, len: last.len };
      }
      if (role === 'plain') role = 'allocator';  // takes pAllocator, makes or ends nothing we can name
    }
    out.push({ name, ...cmd, chain, role, target, allocatorIndex, handWritten: HAND_WRITTEN.has(name), passThrough: PASS_THROUGH.has(name) });
  }
  return out;
}

// ---- emission ----

const slot = (name) => name.slice(2);  // vkCreateBuffer -> CreateBuffer
const typeName = (handle) => handle.replace(/^Vk/, '');

function emitHeader(cmds) {
  const table = (chain) => cmds.filter((c) => c.chain === chain).map((c) => `  PFN_${c.name} ${slot(c.name)};`).join('\n');
  return `// Generated by scripts/gen-layer.js from vk.xml: do not edit.
// The next layer's (or driver's) entry points, one table per instance and per device.
#pragma once
#include <vulkan/vulkan.h>

namespace vkalloc_layer {

struct InstanceDispatch {
${table('instance')}
};

struct DeviceDispatch {
${table('device')}
};

// Fills a table from the next element of the chain (absent commands stay null).
void FillInstanceDispatch(InstanceDispatch* t, PFN_vkGetInstanceProcAddr gipa, VkInstance instance);
void FillDeviceDispatch(DeviceDispatch* t, PFN_vkGetDeviceProcAddr gdpa, VkDevice device);

// Command names by id (0 is "none": outside any command); ids are stable per generation.
extern const char* const kCommandNames[];
extern const unsigned kCommandCount;
enum HandWrittenId : unsigned {
${[...HAND_WRITTEN].filter((n) => n !== 'vkCreateInstance').map((n) => `  kId_${n} = ${cmds.findIndex((c) => c.name === n) + 1},`).join('\n')}
  kId_vkCreateInstance = ${cmds.length + 1},
};

// The layer's intercept for \`name\`, or null. \`chain\`: 'i' instance, 'd' device.
struct InterceptEntry {
  const char* name;
  PFN_vkVoidFunction function;
  char chain;
  unsigned id;
};
const InterceptEntry* FindIntercept(const char* name);
// The id of a command name (0 when not a known command).
unsigned CommandId(const char* name);

}  // namespace vkalloc_layer
`;
}

function emitSource(cmds) {
  const ids = new Map(cmds.map((c, i) => [c.name, i + 1]));
  // vkCreateInstance is global (no dispatchable handle) but is attributed like the rest.
  const names = ['"none"', ...cmds.map((c) => `"${c.name}"`), '"vkCreateInstance"'];
  const fill = (chain, getter, handle) => cmds.filter((c) => c.chain === chain)
    .map((c) => `  t->${slot(c.name)} = reinterpret_cast<PFN_${c.name}>(${getter}(${handle}, "${c.name}"));`).join('\n');

  const intercepts = [];
  for (const c of cmds) {
    if (c.handWritten || c.passThrough) continue;
    intercepts.push(emitIntercept(c, ids.get(c.name)));
  }
  const entries = cmds.filter((c) => !c.passThrough).map((c) =>
    `  {"${c.name}", reinterpret_cast<PFN_vkVoidFunction>(&L_${c.name}), '${c.chain[0]}', ${ids.get(c.name)}},`);

  return `// Generated by scripts/gen-layer.js from vk.xml: do not edit.
// ${cmds.length} commands: ${cmds.filter((c) => c.chain === 'instance').length} instance, ${cmds.filter((c) => c.chain === 'device').length} device; ` +
`${cmds.filter((c) => c.role === 'create').length} creates, ${cmds.filter((c) => c.role === 'destroy').length} destroys.
#include "layer_dispatch.h"
#include <algorithm>
#include <cstring>
#include "../layer.h"

namespace vkalloc_layer {

const char* const kCommandNames[] = {
${names.map((n) => `  ${n},`).join('\n')}
};
const unsigned kCommandCount = ${names.length};

void FillInstanceDispatch(InstanceDispatch* t, PFN_vkGetInstanceProcAddr gipa, VkInstance instance) {
${fill('instance', 'gipa', 'instance')}
}

void FillDeviceDispatch(DeviceDispatch* t, PFN_vkGetDeviceProcAddr gdpa, VkDevice device) {
${fill('device', 'gdpa', 'device')}
}

namespace {

${intercepts.join('\n\n')}

// Sorted by name for the binary search in FindIntercept.
const InterceptEntry kIntercepts[] = {
${entries.join('\n')}
};

}  // namespace

const InterceptEntry* FindIntercept(const char* name) {
  const InterceptEntry* end = kIntercepts + sizeof(kIntercepts) / sizeof(kIntercepts[0]);
  const InterceptEntry* it = std::lower_bound(kIntercepts, end, name,
      [](const InterceptEntry& e, const char* n) { return std::strcmp(e.name, n) < 0; });
  return it != end && std::strcmp(it->name, name) == 0 ? it : nullptr;
}

unsigned CommandId(const char* name) {
  const InterceptEntry* e = FindIntercept(name);
  if (e) return e->id;
  for (unsigned i = 1; i < kCommandCount; i++)
    if (std::strcmp(kCommandNames[i], name) == 0) return i;
  return 0;
}

}  // namespace vkalloc_layer
`;
}

function emitIntercept(c, id) {
  const params = c.params.map((p) => p.decl).join(', ');
  const first = c.params[0].name;
  const state = c.chain === 'instance' ? `InstanceState* s = InstanceOf(${first});` : `DeviceState* s = DeviceOf(${first});`;
  const args = c.params.map((p) => (p.name === 'pAllocator' && c.role !== 'plain' ? 'a' : p.name)).join(', ');
  const call = `s->next.${slot(c.name)}(${args})`;
  const lines = [`static VKAPI_ATTR ${c.ret} VKAPI_CALL L_${c.name}(${params}) {`, `  ${state}`];
  if (c.role === 'destroy') {
    lines.push(`  Command cmd(${id}, Handle(${c.target.param}), true);`);
    lines.push(`  const VkAllocationCallbacks* a = cmd.Destroying(s->objects, Handle(${c.target.param}), pAllocator);`);
  } else if (c.role === 'create' || c.role === 'allocator') {
    lines.push(`  Command cmd(${id}, 0, true);`);
    lines.push('  const VkAllocationCallbacks* a = CallbacksFor(pAllocator);');
  } else {
    lines.push(`  Command cmd(${id});`);
  }
  const created = () => {
    const t = c.target;
    const record = (expr) => `cmd.Created(s->objects, "${typeName(t.type)}", Handle(${expr}), s->Parent(), a)`;
    if (t.len && !t.len.includes('null-terminated')) {
      // Arrays (pipelines, shared swapchains): made entries are non-null even when the command fails.
      const count = t.len.split(',')[0];
      return [`  for (uint32_t i = 0; ${t.param} && i < static_cast<uint32_t>(${count}); i++)`,
        `    if (${t.param}[i] != VK_NULL_HANDLE) ${record(`${t.param}[i]`)};`];
    }
    return [`  if (r >= 0) ${record(`*${t.param}`)};`];
  };
  if (c.ret === 'void') {
    lines.push(`  ${call};`);
    if (c.role === 'destroy') lines.push(`  cmd.Destroyed(s->objects, Handle(${c.target.param}));`);
  } else if (c.ret === 'VkResult') {
    lines.push(`  VkResult r = ${call};`);
    if (c.role === 'create') lines.push(...created());
    if (c.role === 'destroy') lines.push(`  cmd.Destroyed(s->objects, Handle(${c.target.param}));`);
    lines.push('  cmd.Result(r);', '  return r;');
  } else {
    lines.push(`  return ${call};`);
  }
  lines.push('}');
  return lines.join('\n');
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const xml = fs.readFileSync(opts.registry, 'utf8');
  const cmds = classify(parseRegistry(xml));
  const files = { 'layer_dispatch.h': emitHeader(cmds), 'layer_dispatch.cc': emitSource(cmds) };
  if (opts.check) {
    const stale = Object.entries(files).filter(([f, text]) => {
      try { return fs.readFileSync(path.join(opts.out, f), 'utf8') !== text; } catch { return true; }
    });
    if (stale.length) {
      process.stderr.write(`gen-layer: ${stale.map(([f]) => f).join(', ')} differ from ${opts.registry}: run node scripts/gen-layer.js\n`);
      return 1;
    }
    return 0;
  }
  fs.mkdirSync(opts.out, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(opts.out, f), text);
  const count = (role) => cmds.filter((c) => c.role === role).length;
  process.stderr.write(`gen-layer: ${cmds.length} commands (${count('create')} creates, ${count('destroy')} destroys, ` +
    `${count('allocator')} other pAllocator commands) into ${path.relative(ROOT, opts.out) || opts.out}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main();
module.exports = { parseRegistry, classify };
