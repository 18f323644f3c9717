import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export const CORPUS = join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus');

/** Corpus files that are hand-made schema catalogues, not recordings (MANIFEST.md: "HAND-MADE"). */
const HAND_MADE = [/^jazzyalex__agent-sessions\//, /agent-test-hash-\d+\.jsonl$/, /hook_attachments\.jsonl$/];
/** Codex rollouts and Gemini sessions stored under a .jsonl name (MANIFEST.md "format: codex / gemini-session"). */
const FOREIGN = [/rollout-.*\.jsonl$/, /codex\//, /^entireio__cli\/(12|51|9c|ab|c9)\/.*full\.jsonl$/, /^entireio__cli\/ec\/38b74f08e3\/2\/full\.jsonl$/, /gemini\/jsonl_v040\.jsonl$/];

export interface CorpusFile {
  path: string;
  name: string;
  handMade: boolean;
  foreign: boolean;
}

export function corpusFiles(): CorpusFile[] {
  const out: CorpusFile[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name.endsWith('.jsonl')) {
        const name = relative(CORPUS, p);
        out.push({ path: p, name, handMade: HAND_MADE.some((r) => r.test(name)), foreign: FOREIGN.some((r) => r.test(name)) });
      }
    }
  };
  walk(CORPUS);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

// Damaged recordings the corpus manifest names (orphans, glued lines, an unanswered prompt), by file.
export const KNOWN_DAMAGED: Record<string, string[]> = {
  'codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/5c187f31.jsonl': ['orphaned-tool-use', 'orphaned-tool-result', 'broken-parent-link'],
  'codemie-ai__codemie-code/tests/integration/session/fixtures/claude/incremental-subagents/turn-1.jsonl': ['orphaned-tool-use'],
  'daaain__claude-code-log/test/test_data/sidechain.jsonl': ['orphaned-tool-use'],
  'entireio__cli/37/995ebed6e4/2/full.jsonl': ['concatenated-line'],
  'entireio__cli/4c/02af2759b6/0/full.jsonl': ['orphaned-tool-use'],
  'entireio__cli/4c/70d9b5734c/0/full.jsonl': ['orphaned-tool-use'],
  'entireio__cli/5a/c45bc32212/0/full.jsonl': ['concatenated-line'],
  'entireio__cli/60/fd31fcf44f/0/full.jsonl': ['orphaned-tool-use'],
  'entireio__cli/71/69f9710768/0/full.jsonl': ['orphaned-tool-use'],
  'entireio__cli/ec/38b74f08e3/3/full.jsonl': ['orphaned-tool-use'],
  'slopus__happy-cli/src/claude/utils/__fixtures__/task_sdk.jsonl': ['orphaned-tool-use'],
};

/**
 * Damage the manifest does not list as such, each checked by hand against the file. Excerpts and
 * hand-made catalogues are named by their provenance ("parent chains start mid-conversation");
 * the others are real defects a resume would hit.
 */
export const ALSO_DAMAGED: Record<string, { codes: string[]; why: string }> = {
  'daaain__claude-code-log/test/test_data/edit_tool.jsonl': { codes: ['conversation-starts-mid-way'], why: 'genuine excerpt: its first entry names a parent that is not in the file' },
  'daaain__claude-code-log/test/test_data/read_tool_pygments.jsonl': { codes: ['conversation-starts-mid-way'], why: 'genuine excerpt: its first entry names a parent that is not in the file' },
  'jazzyalex__agent-sessions/Resources/Fixtures/stage0/agents/claude/small.jsonl': { codes: ['invalid-entry-shape', 'conversation-starts-mid-way'], why: 'hand-made catalogue: trimmed entries, an orphaned tool_use, duplicate uuids' },
  'codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/unknown-operation-error.jsonl': {
    codes: ['blank-content', 'invalid-entry-shape'],
    why: 'line 3 is an assistant entry whose message is a Bedrock UnknownOperationException body: no role, empty content, which the API refuses on resume',
  },
  'slopus__happy-cli/src/claude/utils/__fixtures__/duplicate-assistant-response.jsonl': { codes: ['broken-parent-link'], why: 'line 3 repeats the response of line 2 with parentUuid null, so the resumed chain loses the first prompt' },
  'entireio__cli/00/c9e2351016/3/full.jsonl': { codes: ['unfinished-turn', 'broken-parent-link'], why: 'copied mid-turn: the last response stops after its thinking and the last progress entry names a parent that was never written' },
  'entireio__cli/6d/e70163f7e3/0/full.jsonl': { codes: ['unfinished-turn', 'broken-parent-link'], why: 'copied mid-turn: the last response stops after its thinking and the last progress entry names a parent that was never written' },
};
