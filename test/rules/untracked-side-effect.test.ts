import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import rule from '../../src/rules/untracked-side-effect.js';
import { backupHash } from '../../src/inspect/file-history.js';
import { healthyCorpus, repoFile, ruleTester, tempDir, text, toolUse, Transcript, type Fixture } from './helpers.js';

const MATH = 'function add(a, b) {\n  return a + b;\n}\n';
const MATH_EDITED = 'function add(a, b) {\n  return Number(a) + Number(b);\n}\n';
const CRASH_PARALLEL = 'fixtures/crash-parallel/claude/projects/-tmp-ccrescue-fixture-work-proj/5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl';

/** A project folder with these files; the transcript's cwd is set to it. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('proj-');
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

/** Session state Claude Code keeps beside a transcript: backups under file-history/<sessionId>/. */
async function withBackups(fx: Fixture, sessionId: string, backups: Record<string, string>): Promise<Fixture> {
  const dir = join(fx.claudeDir!, 'file-history', sessionId);
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(backups)) await writeFile(join(dir, name), content);
  return fx;
}

/** Turn 1 reads math.js in full, as 2.x records it. */
function readMath(t: Transcript, dir: string): void {
  t.user('Make add() coerce its inputs.');
  t.assistant([text('Reading it.'), toolUse('toolu_01ReadMathAb12Cd34Ef56Gh', 'Read', { file_path: `${dir}/src/math.js` })]);
  t.result('toolu_01ReadMathAb12Cd34Ef56Gh', MATH, { extra: { toolUseResult: { type: 'text', file: { filePath: `${dir}/src/math.js`, content: MATH, numLines: 3, startLine: 1, totalLines: 3 } } } });
}

/** Turn 2 edits it, with the result 2.x writes (originalFile, structuredPatch). */
function editMath(t: Transcript, dir: string): void {
  const input = { file_path: `${dir}/src/math.js`, old_string: 'return a + b;', new_string: 'return Number(a) + Number(b);', replace_all: false };
  t.assistant([text('Editing.'), toolUse('toolu_01EditMathAb12Cd34Ef56Gh', 'Edit', input)]);
  t.result('toolu_01EditMathAb12Cd34Ef56Gh', `The file ${dir}/src/math.js has been updated successfully.`, {
    extra: { toolUseResult: { filePath: `${dir}/src/math.js`, oldString: input.old_string, newString: input.new_string, originalFile: MATH, structuredPatch: [], userModified: false, replaceAll: false } },
  });
  t.assistant(text('Done: add() now coerces.'));
}

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'the real 2.1.328 crash with its project as the crash left it (every change has a line)',
      session: () => ({ ...repoFile(CRASH_PARALLEL, 'fixtures/crash-parallel/claude')(), projectDir: join(import.meta.dirname, '..', '..', 'fixtures', 'crash-parallel', 'project') }),
    },
    {
      name: 'an edit with its result, and the disk holds what it left',
      session: async () => {
        const dir = await project({ 'src/math.js': MATH_EDITED });
        const t = new Transcript({ version: '2.1.152', cwd: dir });
        readMath(t, dir);
        editMath(t, dir);
        return t.write();
      },
    },
    {
      name: 'a file read in full and unchanged since',
      session: async () => {
        const dir = await project({ 'src/math.js': MATH });
        const t = new Transcript({ version: '2.1.152', cwd: dir });
        readMath(t, dir);
        t.assistant(text('It adds.'));
        return t.write();
      },
    },
    {
      name: 'a file read only in part (offset/limit) that changed since: the transcript never knew all of it',
      session: async () => {
        const dir = await project({ 'src/math.js': MATH_EDITED });
        const t = new Transcript({ version: '2.1.152', cwd: dir });
        t.user('Show me the first line.');
        t.assistant([toolUse('toolu_01ReadPartAb12Cd34Ef56Gh', 'Read', { file_path: `${dir}/src/math.js`, limit: 1 })]);
        t.result('toolu_01ReadPartAb12Cd34Ef56Gh', 'function add(a, b) {', { extra: { toolUseResult: { type: 'text', file: { filePath: `${dir}/src/math.js`, content: 'function add(a, b) {', numLines: 1, startLine: 1, totalLines: 3 } } } });
        t.assistant(text('That is the signature.'));
        return t.write();
      },
    },
    {
      name: 'a checkpoint delta whose message is in the file, and a backup a snapshot names',
      session: async () => {
        const dir = await project({ 'src/math.js': MATH_EDITED });
        const t = new Transcript({ version: '2.1.152', cwd: dir });
        readMath(t, dir);
        const name = `${backupHash(`${dir}/src/math.js`)}@v1`;
        const input = { file_path: `${dir}/src/math.js`, old_string: 'return a + b;', new_string: 'return Number(a) + Number(b);' };
        const owner = t.assistant([toolUse('toolu_01EditMathAb12Cd34Ef56Gh', 'Edit', input)]);
        t.entry({ type: 'file-history-delta', messageId: owner, snapshotMessageId: owner, trackingPath: 'src/math.js', backup: { backupFileName: name, version: 1, backupTime: '2026-11-24T01:00:00.000Z' } });
        t.result('toolu_01EditMathAb12Cd34Ef56Gh', 'updated', { extra: { toolUseResult: { filePath: `${dir}/src/math.js`, originalFile: MATH, ...input } } });
        t.assistant(text('Done.'));
        return withBackups(await t.write(), t.sessionId, { [name]: MATH });
      },
    },
    {
      name: 'the project is not on this machine: nothing can be compared, nothing is claimed',
      session: async () => {
        const t = new Transcript({ version: '2.1.152', cwd: '/nonexistent/ccrescue/project' });
        readMath(t, '/nonexistent/ccrescue/project');
        editMath(t, '/nonexistent/ccrescue/project');
        return t.write();
      },
    },
    {
      name: 'a change a recovery already reported (its snapshot sits beside the session) while the disk still holds it',
      session: async () => {
        const dir = await project({ 'src/math.js': 'changed by hand\n' });
        const t = new Transcript({ version: '2.1.152', cwd: dir });
        readMath(t, dir);
        t.assistant(text('It adds.'));
        const fx = await t.write();
        const { recover } = await import('../../src/recover.js');
        const out = join(await tempDir('rep-'), 'repaired.jsonl');
        await recover({ file: fx.file, claudeDir: fx.claudeDir, out });
        return { file: out, claudeDir: null };
      },
    },
  ],
  invalid: [
    {
      name: 'a checkpoint delta for a message never written, and the new file on disk (2.1.328 killed after a Write ran, scenario b2)',
      session: async () => {
        const dir = await project({ 'src/sub.js': 'exports.sub = (a, b) => a - b;\n' });
        const t = new Transcript({ version: '2.1.328', cwd: dir });
        const prompt = t.user('Write src/sub.js.');
        t.entry({ type: 'file-history-delta', messageId: '7d1e5c3a-0b9f-4e2d-8c6a-5f4e3d2c1b0a', snapshotMessageId: prompt, trackingPath: 'src/sub.js', backup: { backupFileName: null, version: 1, backupTime: '2026-11-24T01:00:00.000Z', realParentDir: `${dir}/src` } });
        return t.write();
      },
      findings: [{ line: 2, severity: 'warning', message: /^src\/sub\.js: line 2 is Claude Code's checkpoint for a change by message 7d1e5c3a-0b9f-4e2d-8c6a-5f4e3d2c1b0a, which the transcript never recorded; it now exists$/ }],
    },
    {
      name: 'a backup no line names, and the file changed (2.1.328 killed as its Edit reached the disk, scenario d)',
      session: async () => {
        const dir = await project({ 'src/math.js': MATH_EDITED });
        const t = new Transcript({ version: '2.1.328', cwd: dir });
        readMath(t, dir);
        t.assistant(text('It adds.'));
        return withBackups(await t.write(), t.sessionId, { [`${backupHash(`${dir}/src/math.js`)}@v1`]: MATH });
      },
      findings: [{ line: 5, severity: 'warning', message: /^src\/math\.js: Claude Code backed this file up as [0-9a-f]{16}@v1 before changing it, and no line of the transcript records that change; it now differs$/ }],
    },
    {
      name: 'an edit with its result, then the file changed by something else',
      session: async () => {
        const dir = await project({ 'src/math.js': MATH_EDITED.replace('Number(b)', 'parseInt(b)') });
        const t = new Transcript({ version: '2.1.152', cwd: dir });
        readMath(t, dir);
        editMath(t, dir);
        return t.write();
      },
      findings: [{ line: 6, severity: 'warning', message: 'src/math.js: the file differs from the state the transcript last recorded (line 6)' }],
    },
    {
      name: 'a file read in full, then deleted',
      session: async () => {
        const dir = await project({});
        const t = new Transcript({ version: '2.1.152', cwd: dir });
        readMath(t, dir);
        t.assistant(text('It adds.'));
        return t.write();
      },
      findings: [{ line: 4, severity: 'warning', message: 'src/math.js: the file differs from its content when the session read it (line 4); something else changed it since; it is now deleted' }],
    },
  ],
});
