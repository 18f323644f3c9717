import rule from '../../src/rules/crashed-client.js';
import { DEAD_PID, healthy, healthyCorpus, repoFile, ruleTester, Transcript } from './helpers.js';

const CRASH_PARALLEL = 'fixtures/crash-parallel/claude/projects/-tmp-ccrescue-fixture-work-proj/5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl';

/** A `sessions/<pid>.json` record in the shape 2.1.328 writes. */
const record = (pid: number, sessionId: string | null, more: Record<string, unknown> = {}) => ({
  pid,
  ...(sessionId === null ? {} : { sessionId }),
  cwd: '/home/user/proj',
  startedAt: 1795483428896,
  version: '2.1.152',
  kind: 'interactive',
  entrypoint: 'cli',
  status: 'busy',
  updatedAt: 1795483428859,
  ...more,
});

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'the real 2.1.328 crash analysed without its Claude dir (no process records to read)',
      session: repoFile(CRASH_PARALLEL),
    },
    {
      name: 'a live client (this test process) holds the session',
      session: () => {
        const t = healthy();
        return t.write({ clients: [record(process.pid, t.sessionId)] });
      },
    },
    {
      name: 'a dead client of another session',
      session: () => healthy().write({ clients: [record(DEAD_PID, '0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f')] }),
    },
    {
      name: 'a dead client record that names no session',
      session: () => healthy().write({ clients: [record(DEAD_PID, null)] }),
    },
    {
      name: 'no sessions/ directory in the Claude dir',
      session: () => healthy().write(),
    },
  ],
  invalid: [
    {
      name: 'the real 2.1.328 client killed with SIGKILL (fixtures/crash-parallel, record still "busy")',
      session: repoFile(CRASH_PARALLEL, 'fixtures/crash-parallel/claude'),
      findings: [{ line: 40, severity: 'warning', message: /^Claude Code 2\.1\.328 \(pid 8450\) died while this session was busy; its record \/.*\/fixtures\/crash-parallel\/claude\/sessions\/8450\.json was left behind$/ }],
    },
    {
      name: 'a dead pid names the session: reported at the resume leaf',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Run the slow job.');
        return t.write({ clients: [record(DEAD_PID, t.sessionId)] });
      },
      findings: [{ line: 8, severity: 'warning', message: `Claude Code 2.1.152 (pid ${DEAD_PID}) died while this session was busy; its record ` }],
    },
    {
      name: 'a live pid that started at another time (the pid was reused)',
      session: () => {
        const t = healthy();
        return t.write({ clients: [record(process.pid, t.sessionId, { procStart: '1', status: 'idle' })] });
      },
      findings: [{ line: 7, severity: 'warning', message: `(pid ${process.pid}) died while this session was idle` }],
    },
    {
      name: 'two dead records, one without version or status',
      session: () => {
        const t = healthy();
        return t.write({ clients: [record(DEAD_PID, t.sessionId), { pid: DEAD_PID + 1, sessionId: t.sessionId }] });
      },
      findings: [
        { line: 7, severity: 'warning', message: `Claude Code 2.1.152 (pid ${DEAD_PID}) died while this session was busy` },
        { line: 7, severity: 'warning', message: `Claude Code (pid ${DEAD_PID + 1}) died while this session was open` },
      ],
    },
    {
      name: 'killed before the first prompt was written (no conversation: line 0)',
      session: () => {
        const t = new Transcript({ version: '2.1.152' });
        t.entry({ type: 'queue-operation', operation: 'enqueue', timestamp: '2026-02-11T20:36:00.000Z', sessionId: t.sessionId, content: 'Hi' });
        return t.write({ clients: [record(DEAD_PID, t.sessionId)] });
      },
      findings: [{ line: 0, severity: 'warning', message: `(pid ${DEAD_PID}) died while this session was busy` }],
    },
  ],
});
