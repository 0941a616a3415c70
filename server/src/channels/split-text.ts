/**
 * Splits an answer into pieces a platform accepts (Telegram 4096, Discord
 * 2000 characters, …): at a paragraph break if one is in the second half of
 * the piece, else a line break, else a space, else hard. Never splits a
 * surrogate pair. Concatenating the pieces (with the separators removed at
 * the cuts) gives the text back.
 */
export function splitText(text: string, max: number): string[] {
  if (max < 16) throw new RangeError('max must be at least 16 characters');
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = cutPoint(rest, max);
    const head = rest.slice(0, cut).trimEnd();
    pieces.push(head.length > 0 ? head : rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[ \t]*\n?/, '');
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest);
  return pieces;
}

function cutPoint(text: string, max: number): number {
  const window = text.slice(0, max + 1);
  const half = Math.floor(max / 2);
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(separator, max - separator.length);
    if (at >= half) return at + separator.length;
  }
  // A hard cut must not leave half a surrogate pair on either side.
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
