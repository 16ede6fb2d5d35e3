/** Tests run TypeScript sources directly through ts-jest; Vulkan tests run on real drivers. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { target: 'ES2022', module: 'commonjs', strict: true, esModuleInterop: true, lib: ['ES2022', 'ESNext.Disposable'], types: ['node', 'jest'] }, diagnostics: { warnOnly: false } }] },
  // VKALLOC_TEST_VALIDATION=1 runs every Vulkan test under the validation layer (test/helpers/validation.ts).
  setupFilesAfterEnv: ['<rootDir>/test/helpers/validation.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
