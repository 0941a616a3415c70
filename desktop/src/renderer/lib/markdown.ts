import { Marked, type Tokens } from 'marked';
import createDOMPurify, { type WindowLike } from 'dompurify';
import type { HLJSApi } from 'highlight.js';
import { createHighlighter } from './highlighter';

/** Turns model output (untrusted) into sanitized HTML. */
export interface MarkdownRenderer {
  render(markdown: string): string;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Auto-detection is slow on long text and flickers while streaming; only use it on short blocks. */
const AUTO_DETECT_MAX_CHARS = 4_000;

function highlight(hljs: HLJSApi, code: string, lang: string | undefined): { html: string; language: string | null } {
  const name = lang?.trim().split(/\s+/)[0]?.toLowerCase();
  if (name && hljs.getLanguage(name)) {
    return { html: hljs.highlight(code, { language: name, ignoreIllegals: true }).value, language: name };
  }
  if (!name && code.length <= AUTO_DETECT_MAX_CHARS) {
    const auto = hljs.highlightAuto(code);
    if (auto.language && auto.relevance >= 5) return { html: auto.value, language: auto.language };
  }
  return { html: escapeHtml(code), language: null };
}

/**
 * marked → highlight.js → DOMPurify. Everything the model writes passes the
 * sanitizer last, so neither raw HTML in the answer nor a bug in a renderer
 * can put script into the page (the CSP is the second wall).
 */
export function createMarkdownRenderer(window: WindowLike): MarkdownRenderer {
  const purify = createDOMPurify(window);
  const hljs = createHighlighter();
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.getAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });

  const marked = new Marked({
    gfm: true,
    breaks: true,
    renderer: {
      code({ text, lang }: Tokens.Code): string {
        const { html, language } = highlight(hljs, text, lang);
        const label = language ? ` data-language="${escapeHtml(language)}"` : '';
        return `<pre class="code-block"${label}><code class="hljs${language ? ` language-${escapeHtml(language)}` : ''}">${html}</code></pre>\n`;
      },
    },
  });

  return {
    render(markdown) {
      const html = marked.parse(markdown, { async: false });
      return purify.sanitize(html, {
        USE_PROFILES: { html: true },
        FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
        FORBID_ATTR: ['style'],
      });
    },
  };
}
