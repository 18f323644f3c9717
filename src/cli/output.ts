import type { Finding, Severity } from '../rules/types.js';

/** Colour only on a terminal, and never with NO_COLOR. */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env);
}

const CODES: Record<Severity, string> = { error: '31', warning: '33', notice: '36' };

export function paint(text: string, severity: Severity, color: boolean): string {
  return color ? `\u001b[${CODES[severity]}m${text}\u001b[0m` : text;
}

export async function findingsTable(findings: Finding[], color: boolean): Promise<string> {
  const { default: Table } = await import('cli-table3'); // only text output draws tables
  const table = new Table({ head: ['line', 'severity', 'code', 'finding'], style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] }, wordWrap: true, colWidths: [7, 10, 26, 70] });
  for (const f of findings) table.push([String(f.line), paint(f.severity, f.severity, color), f.code, f.message]);
  return table.toString();
}
