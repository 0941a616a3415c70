import { describe, expect, it } from 'vitest';
import { mimeTypeOf } from './mime';

describe('mimeTypeOf', () => {
  it('knows the files of a renderer build, case-insensitively', () => {
    expect(mimeTypeOf('/assets/index-abc.JS')).toBe('text/javascript; charset=utf-8');
    expect(mimeTypeOf('index.html')).toBe('text/html; charset=utf-8');
    expect(mimeTypeOf('a/b/icon.png')).toBe('image/png');
  });

  it('falls back to octet-stream for unknown or missing extensions', () => {
    expect(mimeTypeOf('/etc/passwd')).toBe('application/octet-stream');
    expect(mimeTypeOf('dir.d/file')).toBe('application/octet-stream');
    expect(mimeTypeOf('archive.tar.exe')).toBe('application/octet-stream');
  });
});
