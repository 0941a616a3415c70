/** The agent part's door: the chat service and what callers may inspect of it. */
export { createChatService, type AgentChatService, type ChatServiceDeps } from './chat-service';
export type { ChatService, TrackedEvent } from './types';
export type { Logger } from './logger';
