import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '@autoclaw/shared';
import { createChatService } from '../agent';
import { createProviderResolver } from '../agent/providers';
import { openStore } from '../store';
import type { Store } from '../store';
import { createSettings, createVault, generateDeviceKey } from '../security';
import { createNoticeBoard } from './notice-board';
import { silentLogger } from './logger';
import { appRouter } from './router';
import { createCallerFactory, formatError } from './trpc';
import type { Context, GatewayServices } from './trpc';

describe('the error formatter', () => {
  it('maps AppError codes and adds data.appCode', () => {
    const shape = formatError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new AppError('NOT_FOUND', 'no session x') }), 'chat.history');
    expect(shape).toMatchObject({ message: 'no session x', data: { code: 'NOT_FOUND', httpStatus: 404, appCode: 'NOT_FOUND', path: 'chat.history' } });
    const limited = formatError(
      new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new AppError('PROVIDER_RATE_LIMITED', 'slow down', { details: { retryAfterMs: 5 } }) }),
      undefined,
    );
    expect(limited.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', appCode: 'PROVIDER_RATE_LIMITED', details: { retryAfterMs: 5 } });
  });

  it('turns zod errors into a readable BAD_REQUEST', () => {
    const zerr = z.object({ text: z.string().min(1, 'message is empty') }).safeParse({ text: '' }).error;
    const shape = formatError(new TRPCError({ code: 'BAD_REQUEST', cause: zerr }), 'chat.send');
    expect(shape.message).toBe('invalid input: text: message is empty');
    expect(shape.data.appCode).toBe('BAD_REQUEST');
  });

  it('never leaks the message of an internal error', () => {
    const plain = formatError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new Error('SQLITE_CORRUPT at /secret/path') }), 'x');
    expect(plain).toMatchObject({ message: 'Internal error', data: { appCode: 'INTERNAL', httpStatus: 500 } });
    const app = formatError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new AppError('INTERNAL', 'db at /secret') }), 'x');
    expect(app.message).toBe('Internal error');
    expect(JSON.stringify(app)).not.toContain('secret');
  });

  it('maps tRPC-made errors (unknown procedure, parse errors) to app codes', () => {
    expect(formatError(new TRPCError({ code: 'NOT_FOUND', message: 'No procedure found' }), 'x.y').data.appCode).toBe('NOT_FOUND');
    expect(formatError(new TRPCError({ code: 'PARSE_ERROR' }), undefined).data.appCode).toBe('BAD_REQUEST');
  });
});

describe('every procedure but health needs a live, authenticated device', () => {
  let dir: string;
  let store: Store;
  let services: GatewayServices;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'autoclaw-trpc-'));
    store = openStore({ path: join(dir, 'gateway.db') });
    const settings = createSettings({ store, vault: createVault(Buffer.alloc(32, 1)), env: {} });
    const resolver = createProviderResolver();
    const chat = createChatService({ store, resolveProvider: () => resolver.resolve(settings.providerSettings()), workspaceDir: join(dir, 'ws') });
    const notices = createNoticeBoard({ store, logger: silentLogger });
    services = { store, chat, settings, devices: { revoke: () => undefined, setRole: () => { throw new Error('not in this test'); } }, notices, version: 'test' };
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const paths = Object.keys(appRouter._def.procedures);

  async function callPath(ctx: Context, path: string): Promise<unknown> {
    const caller = createCallerFactory(appRouter)(ctx) as unknown as Record<string, unknown>;
    // Walks the caller proxy along the dotted path; the input is irrelevant (auth runs first).
    let target: unknown = caller;
    for (const part of path.split('.')) target = (target as Record<string, unknown>)[part];
    const result = await (target as (input: unknown) => Promise<unknown>)({});
    if (result && typeof result === 'object' && Symbol.asyncIterator in result) {
      for await (const _ of result as AsyncIterable<unknown>) break;
    }
    return result;
  }

  async function codeOf(ctx: Context, path: string): Promise<string> {
    try {
      await callPath(ctx, path);
      return 'ok';
    } catch (err) {
      return err instanceof TRPCError ? err.code : 'other';
    }
  }

  it('covers the whole router', () => {
    expect(paths.sort()).toEqual(
      [
        'admin.activity',
        'admin.drain',
        'admin.health',
        'admin.notify',
        'admin.selfCheck',
        'admin.setPlanCaps',
        'admin.usagePage',
        'auth.whoami',
        'budget.get',
        'budget.set',
        'chat.approve',
        'chat.cancel',
        'chat.deleteMessage',
        'chat.events',
        'chat.history',
        'chat.retry',
        'chat.send',
        'audit.list',
        'channels.approve',
        'channels.deny',
        'channels.events',
        'channels.get',
        'channels.list',
        'channels.revoke',
        'channels.setEnabled',
        'devices.list',
        'devices.revoke',
        'devices.setRole',
        'health',
        'memory.delete',
        'memory.search',
        'notices.events',
        'notices.list',
        'notices.markRead',
        'sessions.create',
        'sessions.delete',
        'sessions.ensure',
        'sessions.list',
        'sessions.rename',
        'settings.get',
        'settings.set',
        'skills.approvals',
        'skills.disable',
        'skills.enable',
        'skills.list',
        'skills.oauthDisconnect',
        'skills.oauthFinish',
        'skills.oauthStart',
        'skills.revokeApproval',
        'skills.setSecret',
        'skills.setSetting',
        'usage.ledger',
        'usage.summary',
      ].sort(),
    );
  });

  it('refuses no device, an unknown device and a revoked device', async () => {
    const key = generateDeviceKey();
    store.insertDevice({ id: key.deviceId, name: 'r', kind: 'client', role: 'owner', publicKey: key.publicKey });
    store.revokeDevice(key.deviceId);
    const before = store.dump();
    for (const deviceId of [null, 'unknown-device', key.deviceId]) {
      for (const path of paths) {
        const code = await codeOf({ services, deviceId }, path);
        expect([path, code]).toEqual([path, path === 'health' ? 'ok' : 'UNAUTHORIZED']);
      }
    }
    expect(store.dump()).toBe(before);
  });
});
