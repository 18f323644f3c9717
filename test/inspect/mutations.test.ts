import { describe, expect, it } from 'vitest';
import { applyEdits, containmentState, editPairs } from '../../src/inspect/mutations.js';

describe('applyEdits: an edit replayed the way Claude Code applies it', () => {
  const edit = (old_string: string, new_string: string, replace_all = false) => editPairs('Edit', { old_string, new_string, replace_all });

  it('replaces the first occurrence only, unless replace_all', () => {
    expect(applyEdits('a a a', edit('a', 'b'))).toBe('b a a');
    expect(applyEdits('a a a', edit('a', 'b', true))).toBe('b b b');
  });

  it('takes the new text literally (no $& or $1 patterns)', () => {
    expect(applyEdits('price', edit('price', '$& in $1 and $$'))).toBe('$& in $1 and $$');
  });

  it('creates a file from an empty old text, but only where there was nothing', () => {
    expect(applyEdits(null, edit('', 'new file\n'))).toBe('new file\n');
    expect(applyEdits('', edit('', 'new file\n'))).toBe('new file\n');
    expect(applyEdits('existing', edit('', 'x'))).toBeUndefined();
  });

  it('cannot know the result when the old text is not there', () => {
    expect(applyEdits('abc', edit('zzz', 'y'))).toBeUndefined();
    expect(applyEdits(null, edit('abc', 'y'))).toBeUndefined();
  });

  it('applies a MultiEdit in order, each edit on the result of the previous one', () => {
    const pairs = editPairs('MultiEdit', { edits: [{ old_string: 'one', new_string: 'two' }, { old_string: 'two two', new_string: 'three' }] });
    expect(applyEdits('one two', pairs)).toBe('three');
  });

  it('ignores malformed edits rather than guessing', () => {
    expect(editPairs('MultiEdit', { edits: [null, { old_string: 1 }, { old_string: 'a', new_string: 'b' }] })).toEqual([{ oldText: 'a', newText: 'b', replaceAll: false }]);
  });
});

describe('containmentState: the fallback when the full content was never recorded', () => {
  const input = { old_string: 'return a + b;', new_string: 'return Number(a) + Number(b);' };
  it('sees the new text without the old as applied, the old without the new as not applied', () => {
    expect(containmentState('Edit', input, 'x\nreturn Number(a) + Number(b);\n').status).toBe('applied');
    expect(containmentState('Edit', input, 'x\nreturn a + b;\n').status).toBe('not_applied');
    expect(containmentState('Edit', input, 'x\nreturn a * b;\n').status).toBe('diverged');
  });
  it('a missing file: a Write never happened, an Edit target is gone', () => {
    expect(containmentState('Write', { content: 'x' }, null).status).toBe('not_applied');
    expect(containmentState('Edit', input, null).status).toBe('missing');
  });
});
