import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import rule from '../../src/rules/path-outside-project.js';
import { healthy, healthyCorpus, ruleTester, tempDir, text, toolUse, Transcript } from './helpers.js';

/** A session in a real project folder whose one Write names `path`, with its result. */
async function writeTo(path: (dir: string) => string, prepare?: (dir: string) => Promise<void>) {
  const dir = await tempDir('proj-');
  await prepare?.(dir);
  const t = new Transcript({ version: '2.1.152', cwd: dir });
  t.user('Write the note.');
  t.assistant([text('Writing.'), toolUse('toolu_01WriteNoteAb12Cd34Ef56G', 'Write', { file_path: path(dir), content: 'note\n' })]);
  t.result('toolu_01WriteNoteAb12Cd34Ef56G', 'File created successfully');
  t.assistant(text('Written.'));
  return t.write();
}

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    { name: 'a session that touches no file', session: () => healthy().write() },
    { name: 'a write inside the project', session: () => writeTo((d) => `${d}/notes/today.md`) },
    { name: 'a relative path inside the project', session: () => writeTo(() => 'notes/today.md') },
  ],
  invalid: [
    {
      name: 'a write outside the project (an absolute path elsewhere)',
      session: () => writeTo(() => '/etc/ccrescue-never-read.conf'),
      findings: [{ line: 3, severity: 'notice', message: '/etc/ccrescue-never-read.conf: outside the project directory (or a symlink leading out of it); not read' }],
    },
    {
      name: 'a path that climbs out with ..',
      session: () => writeTo((d) => `${d}/../elsewhere.txt`),
      findings: [{ line: 3, severity: 'notice', message: /elsewhere\.txt: outside the project directory/ }],
    },
    {
      name: 'a path inside the project that is a symlink leading out',
      session: () =>
        writeTo(
          (d) => `${d}/link.txt`,
          async (d) => {
            const outside = join(d, '..', `outside-${Date.now()}.txt`);
            await writeFile(outside, 'secret\n');
            await mkdir(d, { recursive: true });
            await symlink(outside, join(d, 'link.txt'));
          },
        ),
      findings: [{ line: 3, severity: 'notice', message: /link\.txt: outside the project directory \(or a symlink leading out of it\); not read$/ }],
    },
  ],
});
