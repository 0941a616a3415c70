import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../../gateway';
import { keyPairOf } from '../../../security';
import { generateKeyPairSync } from 'node:crypto';
import { defaultGatewayCommand, GATEWAY_MALLOC_ENV, GATEWAY_NODE_FLAGS } from './local-driver';
import { gatewayArgs } from './spawn-gateway';

describe('gateway node flags', () => {
  it('are the same for gateways the manager starts and for `autoclaw` run from node_modules/.bin', () => {
    const bin = join(process.cwd(), 'server', 'bin', 'autoclaw.mjs');
    // The bin's sh lines exec node with them for every command but `chat` (see cli/chat-launch.test.ts).
    const launcher = readFileSync(bin, 'utf8').split('\n').slice(0, 5);
    expect(launcher[0]).toBe('#!/bin/sh');
    expect(launcher[3]).toBe(`exec node ${GATEWAY_NODE_FLAGS.join(' ')} "$0" "$@"`);
    // `autoclaw gateway` gets the malloc settings too (an own value in the environment wins).
    for (const [name, value] of Object.entries(GATEWAY_MALLOC_ENV)) expect(launcher[2]).toContain(`gateway) export ${name}="\${${name}:-${value}}";;`);
    const command = defaultGatewayCommand();
    expect(command.slice(1, -1)).toEqual([...GATEWAY_NODE_FLAGS]);
    expect(command.at(-1)).toBe(bin);
  });
});

describe('gateway arguments', () => {
  it('a manager key that starts with "-" (one in 64 do) still reads as the value of --manager-key', () => {
    let publicKey = '';
    while (!publicKey.startsWith('-')) publicKey = keyPairOf(generateKeyPairSync('ed25519').privateKey).publicKey;
    const spec = { instanceId: 'inst-1', ownerEmail: 'o@example.com', dataKey: Buffer.alloc(32), managerPublicKey: publicKey, allowedOrigins: ['http://127.0.0.1:1'], version: 'dev', memoryLimitMb: 512, env: {} };
    const args = gatewayArgs(spec, '/data/inst-1', '127.0.0.1', 4000);
    expect(parseGatewayConfig(args.slice(1), {})).toMatchObject({ managerKey: publicKey, instanceId: 'inst-1', port: 4000 });
  });
});
