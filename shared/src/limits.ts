/** Limits every side enforces the same way. */
export const LIMITS = {
  /** Longest user message, in characters. */
  messageChars: 32_000,
  /** Longest session name or title. */
  sessionNameChars: 80,
  /** Client-made ids: UUIDs or similar opaque tokens. */
  clientIdChars: 64,
  /** Largest WebSocket frame the gateway accepts, in bytes. */
  wsFrameBytes: 256 * 1024,
  /** Longest memory text. */
  memoryChars: 4_000,
  /** Longest setting value (keys, URLs). */
  settingChars: 4_096,
} as const;
