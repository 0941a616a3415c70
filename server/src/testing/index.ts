/** Test support (never imported by product code): wire-protocol servers for the real SDKs. */
export type * from './wire-types';
export { startAnthropicWireServer } from './anthropic-wire-server';
export { startOpenAIWireServer } from './openai-wire-server';
export type { WireServerHandle } from './wire-server-base';
export { collectEvents, textOf, type Collected } from './collect-events';
