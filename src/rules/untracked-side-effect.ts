import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'untracked-side-effect',
  severity: 'warning',
  description:
    'A file changed on disk and no transcript line records it: a checkpoint for a message that was never written, a backup no line names, or a file that differs from the last state the transcript knows.',
  fix: { safety: 'safe', description: 'Nothing in the file changes; the snapshot keeps the diff and the continuation prompt shows it to the model.' },
};

const rule: Rule = {
  meta,
  detect: ({ index, forensics }) =>
    (forensics?.untracked ?? []).map((u) =>
      report(meta, u.line ?? index.leaf?.line ?? index.entries[index.entries.length - 1]?.line ?? 0, `${u.file}: ${u.evidence}`, { kind: u.source }),
    ),
};
export default rule;
