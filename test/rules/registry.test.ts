import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/rules/registry.js';
import type { Rule } from '../../src/rules/types.js';
import { REPO } from './helpers.js';

const RULES_DIR = join(REPO, 'src', 'rules');
/** Files of src/rules that are machinery, not rules. */
const NOT_RULES = ['types.ts', 'registry.ts', 'line-damage.ts', 'result-marker.ts'];
const ruleFiles = readdirSync(RULES_DIR).filter((n) => n.endsWith('.ts') && !NOT_RULES.includes(n));

describe('rule registry', () => {
  it('has rules', () => {
    expect(RULES.length).toBeGreaterThanOrEqual(20);
    expect(ruleFiles.length).toBeGreaterThanOrEqual(20);
  });

  it('codes are unique and kebab-case', () => {
    const codes = RULES.map((r) => r.meta.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
  });

  it.each(RULES.map((r) => [r.meta.code, r] as const))('%s has a severity, a one-line description and a well-formed fix', (_code, rule) => {
    const { meta } = rule;
    expect(['error', 'warning', 'notice']).toContain(meta.severity);
    expect(meta.description.trim().length).toBeGreaterThan(20);
    expect(meta.description).not.toContain('\n');
    if (meta.fix !== null) {
      expect(['safe', 'unsafe']).toContain(meta.fix.safety);
      expect(meta.fix.description.trim().length).toBeGreaterThan(10);
    }
    if (meta.catalogue !== undefined) expect(meta.catalogue).toMatch(/^C\d{2}$/);
    expect(typeof rule.detect).toBe('function');
  });

  it.each(ruleFiles.map((n) => [n] as const))('src/rules/%s is registered under its own name', async (name) => {
    const mod = (await import(join(RULES_DIR, name.replace(/\.ts$/, '.js')))) as { default?: Rule };
    expect(mod.default).toBeDefined();
    expect(RULES).toContain(mod.default);
    expect(mod.default!.meta.code).toBe(name.replace(/\.ts$/, ''));
  });

  it('registers nothing that has no file of its own', () => {
    expect(RULES.map((r) => `${r.meta.code}.ts`).sort()).toEqual([...ruleFiles].sort());
  });

  it.each(RULES.map((r) => [r.meta.code] as const))('%s has its table in test/rules', (code) => {
    expect(existsSync(join(REPO, 'test', 'rules', `${code}.test.ts`))).toBe(true);
  });
});
