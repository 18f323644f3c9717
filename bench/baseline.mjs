// The floor ccrescue is compared with: read the file as a stream, split it into lines, JSON.parse
// each line, nothing else. Prints {"lines","bytes","parsed"} so the harness can check it read it all.
//   node bench/baseline.mjs <file.jsonl>
import { createReadStream } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/baseline.mjs <file.jsonl>');
let lines = 0;
let bytes = 0;
let parsed = 0;
let carry = null; // start of a line cut by a chunk boundary
const parseLine = (text) => {
  lines++;
  if (text.length > 0) {
    JSON.parse(text);
    parsed++;
  }
};
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
  bytes += chunk.length;
  let from = 0;
  for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
    if (carry === null) parseLine(chunk.toString('utf8', from, nl));
    else {
      parseLine(Buffer.concat([carry, chunk.subarray(from, nl)]).toString('utf8'));
      carry = null;
    }
    from = nl + 1;
  }
  if (from < chunk.length) carry = carry === null ? Buffer.from(chunk.subarray(from)) : Buffer.concat([carry, chunk.subarray(from)]);
}
if (carry !== null && carry.length > 0) parseLine(carry.toString('utf8'));
process.stdout.write(JSON.stringify({ lines, bytes, parsed }) + '\n');
