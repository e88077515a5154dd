// The JavaScript stack a team would otherwise write to watch a task stream,
// beside bench_validate: eventsource-parser + JSON.parse + ajv (with
// ajv-formats for date-time and uuid), on the same corpus bytes, with the
// same contract. Prints one JSON line per measurement in bench_validate's
// format: mb_s/events_s are the best of --repeat runs, *_median the median;
// 1 MB = 10^6 bytes of the corpus.
//
// The contract is the merged document `bench_validate --export-schemas`
// writes (contract_load's own "extends" resolution, so both sides compile
// the very same schemas). From it this program builds, per event kind, ajv
// validators for the kind's schema and for each discriminator variant, the
// "equals" checks against the lifecycle's task_id, the correlation_id
// policy, and the order state machine (states, transitions on kind or
// kind:variant, final states; a stream must end in a final state), judging
// each event as ssemon's validator does. Liveness and timing rules (first
// event, heartbeat window) are not checked here: ssemon does that work on
// top.
//
// Each lifecycle is one stream, fed one chunk per event (the server flushes
// each event; they arrive seconds apart), as bench_validate feeds it:
//   "eventsource-parser+JSON.parse+ajv": each chunk decoded with a
//     streaming TextDecoder, as a client must, then parser.feed();
//   "eventsource-parser+JSON.parse+ajv (pre-decoded)": the chunks decoded
//     beforehand, so decoding is not timed.
// Any violation fails the run: the corpus is faithful.
//
// usage: node bench.mjs CORPUS --schemas FILE [--repeat N] [--warmup N]
//   CORPUS.json (written beside CORPUS by bench_validate --write-corpus)
//   lists the streams: task id and event chunk lengths. --warmup N runs
//   both views N times, untimed, before the timed runs (default 0), so a
//   process that times one run (bench/run-validate.sh starts one per
//   repetition) times a warm JIT as the best of several runs would.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createParser } from 'eventsource-parser';

function usage() {
  process.stderr.write('usage: node bench.mjs CORPUS --schemas FILE [--repeat N] [--warmup N]\n');
  process.exit(2);
}

function parseArgs(argv) {
  let file;
  let schemas;
  let repeat = 5;
  let warmup = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--repeat') {
      const v = argv[++i];
      if (v === undefined || !/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 1000) usage();
      repeat = Number(v);
    } else if (argv[i] === '--warmup') {
      const v = argv[++i];
      if (v === undefined || !/^[0-9]+$/.test(v) || Number(v) > 100) usage();
      warmup = Number(v);
    } else if (argv[i] === '--schemas') {
      schemas = argv[++i];
      if (schemas === undefined) usage();
    } else if (file === undefined && !argv[i].startsWith('--')) {
      file = argv[i];
    } else {
      usage();
    }
  }
  if (file === undefined || schemas === undefined) usage();
  return { file, schemas, repeat, warmup };
}

// ---- the contract, compiled once

// RFC 6901 pointer → getter. A one-token pointer (the common case) is a
// plain member read.
function compilePointer(ptr) {
  if (ptr === '') return (v) => v;
  const tokens = ptr
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
  const own = (v, k) =>
    v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, k)
      ? v[k]
      : undefined;
  if (tokens.length === 1) {
    const k = tokens[0];
    return (v) => own(v, k);
  }
  return (v) => {
    for (const k of tokens) {
      if (Array.isArray(v)) v = /^(0|[1-9][0-9]*)$/.test(k) ? v[Number(k)] : undefined;
      else v = own(v, k);
      if (v === undefined) return undefined;
    }
    return v;
  };
}

function compileContract(doc) {
  if (doc.envelope !== undefined) {
    throw new Error('contracts with an envelope are not part of this benchmark');
  }
  // Draft 2020-12, as ssemon's json_schema: $ref applies with its sibling
  // keywords. strictTypes is off because the variant schemas constrain
  // "properties" without restating "type": "object" (the kind's schema
  // does).
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: false });
  addFormats(ajv, ['date-time', 'uuid']);
  const definitions = doc.definitions ?? {};
  const schema = (s) => {
    if (s === undefined || s === true) return null; // anything goes: nothing to run
    if (s === false) return () => false;
    return ajv.compile({ ...s, definitions });
  };

  const kinds = new Map();
  for (const [name, ev] of Object.entries(doc.events ?? {})) {
    const variants = new Map();
    for (const [value, vs] of Object.entries(ev.variants ?? {})) {
      variants.set(value, { value, validate: schema(vs) });
    }
    kinds.set(name, {
      name,
      json: (ev.data ?? 'json') === 'json',
      validate: schema(ev.schema),
      disc: ev.discriminator !== undefined ? compilePointer(ev.discriminator) : null,
      variants,
      equals: Object.entries(ev.equals ?? {}).map(([ptr, variable]) => ({
        get: compilePointer(ptr),
        variable,
      })),
      correlation: ev.correlation_id ?? true,
    });
  }

  let cid = null;
  if (doc.correlation_id !== undefined) {
    const c = doc.correlation_id;
    cid = {
      get: compilePointer(c.pointer ?? '/correlation_id'),
      presence: c.presence ?? 'optional',
      consistent: c.consistent ?? false,
      variable: c.equals,
    };
  }

  // state name → { final, on: Map(kind → { any, byVariant: Map(value → target) }) }
  const states = new Map();
  let initial = null;
  if (doc.order !== undefined) {
    for (const [name, st] of Object.entries(doc.order.states)) {
      const on = new Map();
      for (const [key, target] of Object.entries(st.on ?? {})) {
        const colon = key.indexOf(':');
        const kind = colon < 0 ? key : key.slice(0, colon);
        if (!on.has(kind)) on.set(kind, { any: undefined, byVariant: new Map() });
        if (colon < 0) on.get(kind).any = target;
        else on.get(kind).byVariant.set(key.slice(colon + 1), target);
      }
      states.set(name, { name, final: st.final === true, on, order: [...on.keys()] });
    }
    initial = doc.order.initial;
  }
  return { kinds, cid, states, initial };
}

// ---- judging, as ssemon's validator does (one fault, one violation)

function newLife(contract, vars, tally) {
  return {
    contract,
    vars,
    tally,
    state: contract.initial,
    afterFinal: false,
    cidFirst: undefined,
    cidChanged: false,
    cidWrong: undefined,
  };
}

function violation(life, cls, message) {
  const t = life.tally;
  t.violations++;
  if (t.shown++ < 10) process.stderr.write(`bench.mjs: violation ${cls}: ${message}\n`);
}

function transitionTarget(st, kind, variant) {
  const tr = st.on.get(kind.name);
  if (tr === undefined) return undefined;
  if (variant !== null) {
    const t = tr.byVariant.get(variant.value);
    if (t !== undefined) return t;
  }
  return tr.any;
}

function judgeOrder(life, kind, variant) {
  const { states } = life.contract;
  const st = states.get(life.state);
  const target = transitionTarget(st, kind, variant);
  if (target !== undefined) {
    life.state = target;
    return;
  }
  const label = variant ? `${kind.name}/${variant.value}` : kind.name;
  if (st.final) {
    if (!life.afterFinal) {
      life.afterFinal = true;
      violation(life, 'order', `event ${label} after final state "${st.name}"`);
    }
    return;
  }
  violation(life, 'order', `event ${label} not allowed in state "${st.name}"`);
  // Resynchronise: follow the first transition, in declaration order, that
  // accepts this event.
  for (const s of states.values()) {
    const t = transitionTarget(s, kind, variant);
    if (t !== undefined) {
      life.state = t;
      return;
    }
  }
}

function judgeCid(life, kind, payload) {
  const cid = life.contract.cid;
  const id = cid.get(payload);
  if (id === undefined) {
    if (cid.presence === 'required') violation(life, 'correlation_id', `${kind.name}: missing`);
    return;
  }
  if (cid.presence === 'absent') {
    violation(life, 'correlation_id', `${kind.name}: present, must be absent`);
    return;
  }
  if (typeof id !== 'string') {
    violation(life, 'correlation_id', `${kind.name}: not a string`);
    return;
  }
  const bound = cid.variable !== undefined ? life.vars[cid.variable] : undefined;
  if (bound !== undefined) {
    if (id !== bound && id !== life.cidWrong) {
      life.cidWrong = id;
      violation(life, 'correlation_id', `${kind.name}: ${id}, expected ${bound}`);
    }
    return;
  }
  if (!cid.consistent) return;
  if (life.cidFirst === undefined) {
    life.cidFirst = id;
  } else if (id !== life.cidFirst) {
    life.cidFirst = id;
    if (!life.cidChanged) {
      life.cidChanged = true;
      violation(life, 'correlation_id', `${kind.name}: changed to ${id}`);
    }
  }
}

function judge(life, ev) {
  life.tally.events++;
  const { contract } = life;
  const kind = contract.kinds.get(ev.event ?? 'message');
  if (kind === undefined) {
    violation(life, 'unknown_event', `event ${ev.event ?? 'message'}`);
    return;
  }
  let payload;
  if (kind.json) {
    try {
      payload = JSON.parse(ev.data);
    } catch {
      violation(life, 'data_not_json', `event ${kind.name}`);
      return;
    }
  }
  let variant = null;
  if (kind.disc !== null) {
    const d = kind.disc(payload);
    variant = typeof d === 'string' ? (kind.variants.get(d) ?? null) : null;
    if (variant === null) {
      violation(life, 'schema', `event ${kind.name}: ${d} is not a declared variant`);
      return;
    }
  }
  if (kind.json) {
    if (kind.validate !== null && !kind.validate(payload)) {
      violation(life, 'schema', `event ${kind.name}: ${ajvMessage(kind.validate)}`);
    } else if (variant?.validate && !variant.validate(payload)) {
      violation(life, 'schema', `event ${kind.name}/${variant.value}: ${ajvMessage(variant.validate)}`);
    } else {
      for (const eq of kind.equals) {
        const want = life.vars[eq.variable];
        if (want !== undefined && eq.get(payload) !== want) {
          violation(life, 'schema', `event ${kind.name}: not the ${eq.variable} ${want}`);
          break;
        }
      }
    }
    if (contract.cid !== null && kind.correlation && isObject(payload)) {
      judgeCid(life, kind, payload);
    }
  }
  if (life.state !== null) judgeOrder(life, kind, variant);
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function ajvMessage(validate) {
  const e = validate.errors?.[0];
  return e ? `${e.instancePath || '(root)'} ${e.message}` : 'invalid';
}

function endLife(life) {
  if (life.state !== null && !life.contract.states.get(life.state).final) {
    violation(life, 'stream_ended', `stream ended in state "${life.state}"`);
  }
}

// ---- measurement

function newTally() {
  return { events: 0, violations: 0, shown: 0 };
}

// One pass over every stream. `streams[i].chunks` are Uint8Arrays (decode)
// or strings (pre-decoded). Returns the wall-clock and CPU seconds; the CPU
// time is the whole process's, V8's helper threads (garbage collection,
// compilation) included.
function runOnce(contract, streams, decode, tally) {
  let life = null;
  const parser = createParser({
    onEvent(ev) {
      judge(life, ev);
    },
    onComment() {},
    onError(err) {
      violation(life, 'sse_syntax', String(err));
    },
  });
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const s of streams) {
    life = newLife(contract, s.vars, tally);
    if (decode) {
      const decoder = new TextDecoder('utf-8');
      for (const chunk of s.chunks) parser.feed(decoder.decode(chunk, { stream: true }));
      const rest = decoder.decode();
      if (rest !== '') parser.feed(rest);
    } else {
      for (const text of s.chunks) parser.feed(text);
    }
    parser.reset();
    endLife(life);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function round1(v) {
  return Math.round(v * 10) / 10;
}

function report(impl, side, tally, times, contractName) {
  const t = times.map((x) => x.wall).sort((a, b) => a - b);
  const c = times.map((x) => x.cpu).sort((a, b) => a - b);
  const best = t[0];
  const med = median(t);
  const line = {
    impl,
    corpus: side.corpus,
    bytes: side.bytes,
    events: tally.events,
    mb_s: round1(side.bytes / 1e6 / best),
    events_s: Math.floor(tally.events / best),
    mb_s_median: round1(side.bytes / 1e6 / med),
    events_s_median: Math.floor(tally.events / med),
    events_s_cpu: Math.floor(tally.events / c[0]),
    events_s_cpu_median: Math.floor(tally.events / median(c)),
    runs: times.length,
    violations: tally.violations,
    lifecycles: side.lifecycles,
    payload_bytes: side.payload_bytes,
    contract: contractName,
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

function check(what, tally, side) {
  if (tally.violations > 0 || tally.events !== side.events) {
    throw new Error(
      `${what}: ${tally.violations} violations, ${tally.events} of ${side.events} events: ` +
        'the corpus must be faithful',
    );
  }
}

const { file, schemas, repeat, warmup } = parseArgs(process.argv.slice(2));
const buf = readFileSync(file);
const side = JSON.parse(readFileSync(`${file}.json`, 'utf8'));
if (side.bytes !== buf.length) throw new Error(`${file}: ${buf.length} bytes, ${file}.json says ${side.bytes}`);
const doc = JSON.parse(readFileSync(schemas, 'utf8'));
const contract = compileContract(doc);

// The streams and their chunks, cut before any timing.
const raw = [];
const pre = [];
for (const s of side.streams) {
  const vars = { task_id: s.task_id };
  const chunks = [];
  let off = s.offset;
  for (const len of s.chunks) {
    chunks.push(buf.subarray(off, off + len));
    off += len;
  }
  raw.push({ vars, chunks });
  const decoder = new TextDecoder('utf-8');
  pre.push({ vars, chunks: chunks.map((c) => decoder.decode(c, { stream: true })) });
}

for (let i = 0; i < warmup; i++) {
  const t = newTally();
  runOnce(contract, raw, true, t);
  check('warm-up, decoding', t, side);
  const u = newTally();
  runOnce(contract, pre, false, u);
  check('warm-up, pre-decoded', u, side);
}

// Alternate the two views run by run, so both see the same conditions on a
// shared machine.
const tDecode = [];
const tPre = [];
let tallyDecode;
let tallyPre;
for (let i = 0; i < repeat; i++) {
  tallyDecode = newTally();
  tDecode.push(runOnce(contract, raw, true, tallyDecode));
  check('decoding', tallyDecode, side);
  tallyPre = newTally();
  tPre.push(runOnce(contract, pre, false, tallyPre));
  check('pre-decoded', tallyPre, side);
}
report('eventsource-parser+JSON.parse+ajv', side, tallyDecode, tDecode, doc.name);
report('eventsource-parser+JSON.parse+ajv (pre-decoded)', side, tallyPre, tPre, doc.name);
