import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// Start-up budget: loading the providers must not load an SDK; each is imported on first use.
describe('provider SDK loading', () => {
  it('imports @anthropic-ai/sdk and openai only dynamically', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      packages: 'external',
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.text ?? '';
    for (const sdk of ['@anthropic-ai/sdk', 'openai']) {
      expect(code).toContain(`import("${sdk}")`);
      expect(code).not.toMatch(new RegExp(`from\\s+"${sdk.replace('/', '\\/')}"`));
    }
  });
});
