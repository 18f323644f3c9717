import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export const CORPUS = join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus');

/** Corpus files that are hand-made schema catalogues, not recordings (MANIFEST.md: "HAND-MADE"). */
const HAND_MADE = [/^jazzyalex__agent-sessions\//, /agent-test-hash-\d+\.jsonl$/, /hook_attachments\.jsonl$/];
/** Codex rollouts and Gemini sessions stored under a .jsonl name (MANIFEST.md "format: codex / gemini-session"). */
const FOREIGN = [/rollout-.*\.jsonl$/, /codex\//, /^entireio__cli\/(12|51|9c|ab|c9)\/.*full\.jsonl$/, /^entireio__cli\/ec\/38b74f08e3\/2\/full\.jsonl$/];

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
