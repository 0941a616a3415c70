/** The agent part's door: the chat service and what callers may inspect of it. */
export { createChatService, type AgentChatService, type ChatServiceDeps, type TurnEnd } from './chat-service';
export type { ChatService, TrackedEvent } from './types';
export type { Logger } from './logger';
