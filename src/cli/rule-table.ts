import { RULES } from '../rules/registry.js';

/** The README's rule table, generated from each rule's metadata. */
export function ruleTable(): string {
  const rows = RULES.map(({ meta }) => {
    const fix = meta.fix ? `${meta.fix.safety}: ${meta.fix.description}` : '—';
    return `| \`${meta.code}\` | ${meta.severity} | ${meta.description} | ${fix} | ${meta.catalogue ?? ''} |`;
  });
  return ['| code | severity | finds | repair | catalogue |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
