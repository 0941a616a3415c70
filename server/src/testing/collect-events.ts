/** Test support: drains an event stream, keeping the events and the error it ended with. */
export interface Collected<T> {
  events: T[];
  error: unknown;
}

export async function collectEvents<T>(
  stream: AsyncIterable<T>,
  onEvent?: (event: T, index: number) => void,
): Promise<Collected<T>> {
  const events: T[] = [];
  try {
    for await (const event of stream) {
      events.push(event);
      onEvent?.(event, events.length - 1);
    }
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

/** The concatenated text of `text` events. */
export function textOf(events: ReadonlyArray<{ type: string; text?: string }>): string {
  return events.map((event) => (event.type === 'text' ? (event.text ?? '') : '')).join('');
}
