import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { applyEdits, editPairs } from '../../src/inspect/mutations.js';
import { CORPUS, corpusFiles } from '../helpers/corpus.js';

/**
 * The forensics replay an Edit/MultiEdit/Write from what the file held before it. Claude Code records
 * that content for each call (`toolUseResult.originalFile`), so on real sessions the replay of one
 * call must equal what the client recorded before the next call on the same file, unless something
 * outside the file tools changed the file in between.
 */
const FILE_TOOLS = new Set(['Read', 'Grep', 'Glob', 'LS', 'Edit', 'MultiEdit', 'Write', 'TodoWrite']);

/** Pairs where the disk really changed between two calls, each checked by hand. */
const CHANGED_OUTSIDE: Record<string, string> = {
  'marot__spotter/test/fixtures/transcripts/258c7280-ae70-4798-800f-63464d01a85d.jsonl:379': 'a formatter split an alias list over lines',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-danieldemmel-me-next/f852ad25-1024-47da-964e-5eaae5bd6e6a.jsonl:66': 'a formatter removed a blank line',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-danieldemmel-me-next/f852ad25-1024-47da-964e-5eaae5bd6e6a.jsonl:78': 'the user added a constant by hand',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-claude-code-log-sample/89488521-e2e7-4d97-bc02-38197efdddc8.jsonl:20': 'a formatter stripped trailing whitespace',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-claude-code-log-sample/937c6e6b-27e7-4edd-86f1-ad28f9731841.jsonl:29': 'a formatter switched quote style',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-claude-code-log-sample/937c6e6b-27e7-4edd-86f1-ad28f9731841.jsonl:68': 'a formatter stripped trailing whitespace',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-claude-code-log-sample/937c6e6b-27e7-4edd-86f1-ad28f9731841.jsonl:83': 'a formatter stripped trailing whitespace',
  'kfischer-okarin__scripts-and-tools/src/claude-history/test/fixtures/claude-projects/-Users-user-project/b3edadab-bca0-4054-9b41-f7ffa6941260.jsonl:39': 'a section was reverted outside the file tools',
};

interface Pair {
  at: string;
  version: string;
  same: boolean;
}

function pairsOf(path: string): Pair[] {
  const uses = new Map<string, { name: string; input: Record<string, unknown> }>();
  const last = new Map<string, { after: string | null | undefined; clean: boolean }>();
  const out: Pair[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const content = (e.message as { content?: unknown } | undefined)?.content;
      if (!Array.isArray(content)) return;
      for (const b of content as Record<string, unknown>[]) {
        if (b.type === 'tool_use') {
          uses.set(b.id as string, { name: b.name as string, input: (b.input ?? {}) as Record<string, unknown> });
          // Any other tool may change files: the next pair on every file is not comparable.
          if (!FILE_TOOLS.has(b.name as string)) for (const v of last.values()) v.clean = false;
        }
        if (b.type !== 'tool_result' || b.is_error === true) continue;
        const use = uses.get(b.tool_use_id as string);
        const recorded = e.toolUseResult as Record<string, unknown> | undefined;
        if (!use || !['Edit', 'MultiEdit', 'Write'].includes(use.name) || typeof recorded !== 'object' || recorded === null || !('originalFile' in recorded)) continue;
        const file = use.input.file_path as string;
        const original = recorded.originalFile as string | null;
        const prev = last.get(file);
        if (prev?.clean && prev.after !== undefined) out.push({ at: `${relative(CORPUS, path)}:${i + 1}`, version: String(e.version), same: prev.after === original });
        const after = use.name === 'Write' ? (use.input.content as string) : applyEdits(original, editPairs(use.name, use.input));
        last.set(file, { after, clean: true });
      }
    });
  return out;
}

describe('the replay of recorded file edits, judged by what Claude Code recorded next (corpus)', () => {
  const pairs = corpusFiles()
    .filter((f) => !f.foreign && !f.handMade)
    .flatMap((f) => pairsOf(f.path));

  it('covers many real pairs across client versions', () => {
    expect(pairs.length).toBeGreaterThanOrEqual(140);
    expect(new Set(pairs.map((p) => p.version)).size).toBeGreaterThanOrEqual(5);
  });

  it('equals the next recorded originalFile, except where the disk changed outside the file tools', () => {
    const differing = pairs.filter((p) => !p.same).map((p) => p.at);
    expect(differing.sort()).toEqual(Object.keys(CHANGED_OUTSIDE).sort());
    expect(pairs.filter((p) => p.same).length).toBeGreaterThanOrEqual(140);
  });
});
