// Fault injection, two ways. First by hand: refuse the 10th allocation of
// vkCreateInstance and see the command fail cleanly. Then the CTS procedure for a
// whole object: fail every allocation point in turn, in child processes.
const { AlignedHeaderPolicy, FailingPolicy, HostAllocator, VulkanError, createInstance, sweep } = require('vkalloc');

const driver = process.env.VKALLOC_EXAMPLE_DRIVER ?? 'lavapipe';
const refusing = new HostAllocator(new FailingPolicy(new AlignedHeaderPolicy(), { nth: 10 }));
try {
  createInstance({ driver }, { allocator: refusing }).destroy();
  console.log('vkCreateInstance carried on without its 10th allocation');
} catch (e) {
  if (!(e instanceof VulkanError)) throw e;
  console.log(`${e.command} failed with ${e.code}; live blocks left: ${refusing.stats().liveCount}`);
}

sweep('buffer', { driver }).then((report) => {
  const t = report.totals;
  console.log(`buffer: ${t.points} points, ${t.cleanOom} clean failures, ${t.crashes} crashes, ${t.leaky} leaky, ` +
    `succeeded at ${t.succeededAt}`);
  process.exitCode = t.crashes + t.leaky + t.otherErrors === 0 ? 0 : 1;
});
