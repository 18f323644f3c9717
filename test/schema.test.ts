import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conformsQuickly, AssistantEntry, UserEntry, SystemEntry, AttachmentEntry, ProgressEntry, SummaryEntry, LastPromptEntry, FileHistorySnapshotEntry, ToolUseBlock, ToolResultBlock, TextBlock, ThinkingBlock } from '../src/read/schema.js';
import { corpusFiles } from './helpers/corpus.js';

const SCHEMAS = { user: UserEntry, assistant: AssistantEntry, system: SystemEntry, attachment: AttachmentEntry, progress: ProgressEntry, summary: SummaryEntry, 'last-prompt': LastPromptEntry, 'file-history-snapshot': FileHistorySnapshotEntry } as const;
const BLOCKS = { text: TextBlock, thinking: ThinkingBlock, tool_use: ToolUseBlock, tool_result: ToolResultBlock } as const;

/** The full zod verdict: the entry schema and every known content block. */
function zodAccepts(entry: Record<string, unknown>): boolean {
  const schema = SCHEMAS[entry.type as keyof typeof SCHEMAS];
  if (!schema.safeParse(entry).success) return false;
  const content = (entry.message as { content?: unknown } | undefined)?.content;
  if (!Array.isArray(content)) return true;
  return content.every((b: { type: string }) => BLOCKS[b.type as keyof typeof BLOCKS]?.safeParse(b).success ?? true);
}

describe('the quick shape check', () => {
  it('never accepts an entry that the zod schemas reject, on every corpus line', () => {
    let checked = 0;
    for (const f of corpusFiles()) {
      for (const line of readFileSync(f.path, 'utf8').split('\n')) {
        let entry: unknown;
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
        const e = entry as Record<string, unknown>;
        if (!(String(e.type) in SCHEMAS)) continue;
        checked++;
        if (conformsQuickly(e, String(e.type))) expect(zodAccepts(e), `${f.name}: ${line.slice(0, 120)}`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(9_000);
  });

  it.each([
    ['a tool_use whose input is an array', { type: 'assistant', uuid: 'u', message: { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'Bash', input: [] }] } }],
    ['a user message without content', { type: 'user', uuid: 'u', message: { role: 'user' } }],
    ['a number uuid', { type: 'system', uuid: 7 }],
    ['a tool_result with numeric content', { type: 'user', uuid: 'u', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 3 }] } }],
  ])('rejects %s, as zod does', (_name, entry) => {
    expect(conformsQuickly(entry, entry.type)).toBe(false);
    expect(zodAccepts(entry)).toBe(false);
  });
});
