/**
 * Drops the start of a streamed answer when it restates text the user has
 * already seen (a continuation prefix). Text is held back only while it still
 * matches the expected repeat; at the first difference everything held is
 * released, so a genuine continuation is never lost.
 */
export class RepeatStripper {
  private held = '';
  private settled: boolean;

  constructor(private readonly expected: string) {
    this.settled = expected.length === 0;
  }

  /** Returns the part of `text` to show now ('' while undecided). */
  push(text: string): string {
    if (this.settled) return text;
    const seen = this.held + text;
    if (seen.length < this.expected.length && this.expected.startsWith(seen)) {
      this.held = seen;
      return '';
    }
    this.settled = true;
    this.held = '';
    return seen.startsWith(this.expected) ? seen.slice(this.expected.length) : seen;
  }
}
