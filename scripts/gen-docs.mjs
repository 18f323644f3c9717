// Regenerates the README's rule table from the rules' own metadata (never edited by hand).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ruleTable } from '../dist/cli/rule-table.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const text = readFileSync(readme, 'utf8');
const start = '<!-- rules:start -->';
const end = '<!-- rules:end -->';
const updated = text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), `${start}\n${ruleTable()}\n${end}`);
writeFileSync(readme, updated);
process.stdout.write(updated === text ? 'README rule table already up to date\n' : 'README rule table regenerated\n');
