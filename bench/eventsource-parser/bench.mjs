// Throughput of the eventsource-parser npm package over a corpus file, the
// reference beside bench_parser. Prints one JSON line per measurement in
// bench_parser's format: mb_s/events_s are the best of --repeat runs,
// *_median the median; 1 MB = 10^6 bytes.
//
//   "eventsource-parser": the bytes decoded with a streaming TextDecoder in
//     64 KiB chunks, as a browser client must, then fed to parser.feed().
//   "eventsource-parser (pre-decoded)": the same 64 KiB chunks decoded once
//     beforehand, so only parser.feed() is timed.
//
// usage: node bench.mjs FILE [--repeat N]
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createParser } from 'eventsource-parser';

const CHUNK = 64 * 1024;

function usage() {
  process.stderr.write('usage: node bench.mjs FILE [--repeat N]\n');
  process.exit(2);
}

function parseArgs(argv) {
  let file;
  let repeat = 5;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--repeat') {
      const v = argv[++i];
      if (v === undefined || !/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 1000) usage();
      repeat = Number(v);
    } else if (file === undefined && !argv[i].startsWith('--')) {
      file = argv[i];
    } else {
      usage();
    }
  }
  if (file === undefined) usage();
  return { file, repeat };
}

// A parser that only counts, like bench_parser's on_event. data.length is in
// UTF-16 code units, equal to bytes for the ASCII corpora bench_corpus writes.
function countingParser(count) {
  return createParser({
    onEvent(ev) {
      count.events++;
      count.data += ev.data.length;
    },
    onError(err) {
      count.errors++;
      count.lastError = err;
    },
  });
}

function newCount() {
  return { events: 0, data: 0, errors: 0, lastError: undefined };
}

function runDecoding(buf, count) {
  const parser = countingParser(count);
  const t0 = process.hrtime.bigint();
  const decoder = new TextDecoder('utf-8');
  for (let off = 0; off < buf.length; off += CHUNK) {
    parser.feed(decoder.decode(buf.subarray(off, off + CHUNK), { stream: true }));
  }
  const rest = decoder.decode();
  if (rest !== '') parser.feed(rest);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function runPredecoded(chunks, count) {
  const parser = countingParser(count);
  const t0 = process.hrtime.bigint();
  for (const text of chunks) parser.feed(text);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function predecode(buf) {
  const decoder = new TextDecoder('utf-8');
  const chunks = [];
  for (let off = 0; off < buf.length; off += CHUNK) {
    chunks.push(decoder.decode(buf.subarray(off, off + CHUNK), { stream: true }));
  }
  const rest = decoder.decode();
  if (rest !== '') chunks.push(rest);
  return chunks;
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function round1(v) {
  return Math.round(v * 10) / 10;
}

function report(impl, corpus, bytes, count, times) {
  const t = [...times].sort((a, b) => a - b);
  const best = t[0];
  const med = median(t);
  const line = {
    impl,
    corpus,
    bytes,
    events: count.events,
    mb_s: round1(bytes / 1e6 / best),
    events_s: Math.floor(count.events / best),
    mb_s_median: round1(bytes / 1e6 / med),
    events_s_median: Math.floor(count.events / med),
    runs: times.length,
    data_chars: count.data,
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

function check(what, count, first) {
  if (count.errors > 0) {
    throw new Error(`${what}: parser reported ${count.errors} errors: ${count.lastError}`);
  }
  if (first && (count.events !== first.events || count.data !== first.data)) {
    throw new Error(`${what}: runs disagree on what they parsed`);
  }
}

const { file, repeat } = parseArgs(process.argv.slice(2));
const buf = readFileSync(file);
const corpus = basename(file, extname(file));
const chunks = predecode(buf);

// Alternate the two views run by run, as bench_parser alternates its two,
// so both see the same conditions on a shared machine.
const tDecode = [];
const tPre = [];
let firstDecode;
let firstPre;
for (let i = 0; i < repeat; i++) {
  const c1 = newCount();
  tDecode.push(runDecoding(buf, c1));
  check('eventsource-parser', c1, firstDecode);
  firstDecode ??= c1;
  const c2 = newCount();
  tPre.push(runPredecoded(chunks, c2));
  check('eventsource-parser (pre-decoded)', c2, firstPre);
  firstPre ??= c2;
}
report('eventsource-parser', corpus, buf.length, firstDecode, tDecode);
report('eventsource-parser (pre-decoded)', corpus, buf.length, firstPre, tPre);
