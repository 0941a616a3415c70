import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultGatewayCommand, GATEWAY_NODE_FLAGS } from './local-driver';

describe('gateway node flags', () => {
  it('are the same for gateways the manager starts and for `autoclaw` run from node_modules/.bin', () => {
    const bin = join(process.cwd(), 'server', 'bin', 'autoclaw.mjs');
    const shebang = readFileSync(bin, 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${GATEWAY_NODE_FLAGS.join(' ')}`);
    const command = defaultGatewayCommand();
    expect(command.slice(1, -1)).toEqual([...GATEWAY_NODE_FLAGS]);
    expect(command.at(-1)).toBe(bin);
  });
});
