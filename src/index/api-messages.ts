import type { EntryFacts } from '../read/facts.js';
import type { SessionIndex } from './session-index.js';
import type { EntryLoader } from './load.js';

export interface ApiMessage {
  role: 'user' | 'assistant';
  content: unknown[];
}

/**
 * The messages a client sends when it resumes the branch: user and assistant entries in file
 * order, the block lines of one API response merged into one message even when its tool results
 * were written between them, consecutive user entries merged, API-error placeholders left out.
 */
export function branchMessages(index: SessionIndex, loader: EntryLoader): ApiMessage[] {
  const messages: (ApiMessage & { id?: string })[] = [];
  for (const e of index.branch) {
    if ((e.type !== 'user' && e.type !== 'assistant') || e.isSidechain || e.isApiErrorMessage) continue;
    const content = blocksOf(e, loader);
    const last = messages[messages.length - 1];
    if (e.type === 'assistant') {
      const beforeResults = messages[messages.length - 2];
      if (last?.role === 'assistant' && sameMessage(last, e)) last.content.push(...content);
      else if (last?.role === 'user' && beforeResults?.role === 'assistant' && sameMessage(beforeResults, e) && onlyToolResults(last)) beforeResults.content.push(...content);
      else messages.push({ role: 'assistant', content, id: e.messageId });
    } else if (last?.role === 'user') last.content.push(...content);
    else messages.push({ role: 'user', content });
  }
  return messages.map(({ role, content }) => ({ role, content: role === 'assistant' ? withoutStrayWhitespace(content) : content }));
}

/**
 * Clients drop a whitespace-only text block that sits beside real content (2.1.3x wrote one
 * before each thinking block); sessions holding them resumed fine, so the sent form is judged.
 */
function withoutStrayWhitespace(content: unknown[]): unknown[] {
  const blank = (b: unknown) => (b as { type?: unknown } | null)?.type === 'text' && !/\S/.test(String((b as { text?: unknown }).text ?? ''));
  return content.some((b) => !blank(b)) ? content.filter((b) => !blank(b)) : content;
}

const sameMessage = (m: { id?: string }, e: EntryFacts) => m.id !== undefined && m.id === e.messageId;
const onlyToolResults = (m: ApiMessage) => m.content.every((b) => (b as { type?: unknown } | null)?.type === 'tool_result');

function blocksOf(e: EntryFacts, loader: EntryLoader): unknown[] {
  const content = (loader.load(e)?.message as { content?: unknown } | undefined)?.content;
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? [...content] : [];
}
