/** Parses a tool call's streamed JSON input; bad JSON becomes `{}` plus an `inputError`. */
export function parseToolInput(json: string): { input: unknown; inputError?: string } {
  if (json.trim() === '') return { input: {} };
  try {
    const input: unknown = JSON.parse(json);
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) return { input };
    return { input: {}, inputError: 'Tool input was not a JSON object' };
  } catch {
    return { input: {}, inputError: 'Tool input was not valid JSON (the answer may have been cut off)' };
  }
}
