// What a terminal shows, rebuilt from what a program wrote to it, for tests of full-screen programs:
// xterm.js's own headless terminal does the parsing.
import xterm from '@xterm/headless';

const { Terminal } = xterm;

/** The screen of a headless xterm fed with everything a program wrote. */
export class Screen {
  private readonly term: InstanceType<typeof Terminal>;

  constructor(
    readonly cols: number,
    readonly rows: number,
  ) {
    this.term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
  }

  /** Feeds output; xterm parses it asynchronously and calls `parsed` once the screen shows it. */
  write(data: string, parsed?: () => void): void {
    this.term.write(data, parsed);
  }

  /** The visible rows, trailing blanks cut (drawn spaces as well as empty cells). */
  lines(): string[] {
    const buffer = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < this.rows; y++) out.push((buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '').trimEnd());
    return out;
  }

  /** The rows joined with `\n`, blank rows at the end dropped. */
  text(): string {
    return this.lines().join('\n').replace(/\n+$/, '');
  }

  /** The screen framed, for a failure message. */
  capture(): string {
    const rule = `+${'-'.repeat(this.cols)}+`;
    return [rule, ...this.lines().map((l) => `|${l.padEnd(this.cols)}|`), rule].join('\n');
  }

  dispose(): void {
    this.term.dispose();
  }
}
