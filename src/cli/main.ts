import { Command, CommanderError } from 'commander';
import { registerRecover } from './recover-command.js';
import { registerDiff } from './diff-command.js';
import { registerScan } from './scan-command.js';
import { registerReport } from './report-command.js';
import { registerResume } from './resume-command.js';
import { registerGuard } from './guard-command.js';
import { CCRESCUE_VERSION } from '../version.js';


/** Runs the CLI; every failure ends as one line on stderr and an exit code from the contract. */
export async function main(argv: string[]): Promise<void> {
  // `resume … -- <claude options>` and `guard … -- <command>`: what follows `--` is not ours.
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  const cut = command === 'resume' || command === 'guard' ? argv.indexOf('--', 2) : -1;
  const passthrough = cut >= 0 ? argv.slice(cut + 1) : [];
  if (cut >= 0) argv = argv.slice(0, cut);
  const program = new Command();
  program
    .name('ccrescue')
    .description('Forensics and recovery for Claude Code session transcripts')
    .version(CCRESCUE_VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerRecover(program);
  registerDiff(program);
  registerScan(program);
  registerReport(program);
  registerResume(program, () => passthrough);
  registerGuard(program, () => passthrough);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // help and version exit 0; every other parse problem is bad usage
    return err.exitCode === 0 ? 0 : 2;
  }
  const code = (err as { exitCode?: unknown }).exitCode;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ccrescue: ${message.split('\n')[0]}\n`);
  return typeof code === 'number' ? code : 1;
}
