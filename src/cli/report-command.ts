import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildReport } from '../report/report.js';
import { renderMarkdown } from '../report/markdown.js';
import { createRedactor, redactSessionFile } from '../report/redact.js';
import { InputError } from '../errors.js';
import { sessionArgument } from './session-arg.js';

interface ReportFlags {
  format?: string;
  redact?: string;
  sessionOut?: string;
  projectDir?: string;
  claudeDir?: string;
  json?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('a redacted bug report for a broken session: versions, platform, timeline, findings, API errors, what recover would do')
    .argument('[session]', 'a .jsonl path, a session id or unique prefix (default: the newest session of the current directory)')
    .option('--format <format>', 'markdown or json', 'markdown')
    .option('--redact <mode>', 'default: secrets, home path and user name; strict: also every message text and tool input and output', 'default')
    .option('--session-out <file>', 'also write the session, redacted the same way, as JSONL with its ids, chain and tool pairing kept')
    .option('--project-dir <dir>', "where the session's files are on disk (default: the session's cwd)")
    .option('--claude-dir <dir>', 'Claude Code config dir (default: $CLAUDE_CONFIG_DIR, else ~/.claude)')
    .option('--json', 'the same as --format json')
    .action(async (session: string | undefined, flags: ReportFlags) => {
      // An error names the file and may quote it (a Codex rollout's first type, a path): it is redacted like the report.
      const errorRedactor = createRedactor({ mode: flags.redact === 'strict' ? 'strict' : 'default' });
      try {
        await writeReport(session, flags);
      } catch (err) {
        if (err instanceof Error) err.message = errorRedactor.text(err.message);
        throw err instanceof Error ? err : new Error(errorRedactor.text(String(err)));
      }
    });
}

async function writeReport(session: string | undefined, flags: ReportFlags): Promise<void> {
  const format = flags.json ? 'json' : flags.format;
  if (format !== 'markdown' && format !== 'json') throw new InputError(`--format ${format}: expected markdown or json`);
  if (flags.redact !== 'default' && flags.redact !== 'strict') throw new InputError(`--redact ${flags.redact}: expected default or strict`);
  const { claudeDir, file } = sessionArgument(session, flags.claudeDir);
  const sessionOut = flags.sessionOut === undefined ? null : resolve(flags.sessionOut);
  if (sessionOut === file) throw new InputError(`${sessionOut}: --session-out names the session itself`);
  if (sessionOut !== null && existsSync(sessionOut)) throw new InputError(`${sessionOut}: already exists; choose another --session-out`);
  // One redactor for both, so a name gets the same placeholder in the report and the session;
  // the report is built first, so a session that cannot be read leaves no file behind.
  const redactor = createRedactor({ mode: flags.redact });
  const report = await buildReport({ file, claudeDir, projectDir: flags.projectDir, redactor });
  if (sessionOut !== null) await redactSessionFile(file, sessionOut, redactor);
  process.stdout.write(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderMarkdown(report) + '\n');
  if (sessionOut !== null) process.stderr.write(`redacted session written to ${sessionOut}\n`);
}
