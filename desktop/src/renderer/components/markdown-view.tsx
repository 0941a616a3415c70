import { useMemo } from 'react';
import { useServices } from '../state/services';

/** Model output as sanitized HTML (see lib/markdown.ts). */
export function MarkdownView({ text, streaming }: { text: string; streaming: boolean }) {
  const { markdown } = useServices();
  const html = useMemo(() => markdown.render(text), [markdown, text]);
  return <div className={streaming ? 'markdown streaming' : 'markdown'} dangerouslySetInnerHTML={{ __html: html }} />;
}
