import type { EntryFacts } from '../read/facts.js';
import type { SessionIndex } from './session-index.js';
import type { EntryLoader } from './load.js';

export interface ApiMessage {
  role: 'user' | 'assistant';
  content: unknown[];
}

/** One message a client sends from the branch: its entries, whose content blocks it holds in this order. */
export interface SentMessage {
  role: 'user' | 'assistant';
  entries: EntryFacts[];
}

/**
 * The messages a client sends when it resumes the branch: user and assistant entries in file
 * order, the block lines of one API response merged into one message even when its tool results
 * were written between them, consecutive user entries merged, API-error placeholders left out.
 * Entries in `omit` are left out as if they were not there (what a repair removes).
 */
export function sentMessages(index: SessionIndex, omit?: ReadonlySet<EntryFacts>): SentMessage[] {
  const messages: (SentMessage & { id?: string })[] = [];
  for (const e of index.branch) {
    if ((e.type !== 'user' && e.type !== 'assistant') || e.isSidechain || e.isApiErrorMessage || omit?.has(e)) continue;
    const last = messages[messages.length - 1];
    if (e.type === 'assistant') {
      const beforeResults = messages[messages.length - 2];
      if (last?.role === 'assistant' && sameMessage(last, e)) last.entries.push(e);
      else if (last?.role === 'user' && beforeResults?.role === 'assistant' && sameMessage(beforeResults, e) && onlyToolResults(last)) beforeResults.entries.push(e);
      else messages.push({ role: 'assistant', entries: [e], id: e.messageId });
    } else if (last?.role === 'user') last.entries.push(e);
    else messages.push({ role: 'user', entries: [e] });
  }
  return messages.map(({ role, entries }) => ({ role, entries }));
}

/** The messages of sentMessages with their content, as a client sends them. */
export function branchMessages(index: SessionIndex, loader: EntryLoader): ApiMessage[] {
  return sentMessages(index).map(({ role, entries }) => {
    const content = entries.flatMap((e) => blocksOf(e, loader));
    return { role, content: role === 'assistant' ? withoutStrayWhitespace(content) : content };
  });
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
const onlyToolResults = (m: SentMessage) => m.entries.every((e) => e.blocks.every((b) => b.type === 'tool_result'));

function blocksOf(e: EntryFacts, loader: EntryLoader): unknown[] {
  const content = (loader.load(e)?.message as { content?: unknown } | undefined)?.content;
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? [...content] : [];
}
