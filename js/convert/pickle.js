// A restricted unpickler for untrusted data: it builds plain values and never imports or calls anything it was
// not given. It understands the opcodes torch.save writes (pickle protocol 2) plus the harmless protocol 3-5
// additions; every other opcode (INST, OBJ, NEWOBJ, EXT*, PERSID, ...) is an Error. GLOBAL / STACK_GLOBAL
// resolve only through the caller's allow-list (`globals`): anything else (os.system, builtins.eval, ...) is an
// Error naming it, raised before any later opcode runs. REDUCE calls only allow-listed JS functions.
// Node-free (pure JS).
//
// Values: None → null, bools, ints → number (BigInt beyond 2^53), float → number, str → string,
// bytes → Uint8Array, list → Array, tuple → frozen Array, dict → Map (keys as above).

/** An allow-listed global: `call(args, name)` if REDUCE may call it, `build(obj, state)` unused. */
export class PickleGlobal {
  constructor(name, { call = null, value = undefined } = {}) {
    this.name = name; // "module.qualname"
    this.call = call;
    this.value = value;
  }
}

export const MAX_LONG_BYTES = 64;
const MAX_GLOBAL_LINE = 512;

const OPNAMES = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x2e: 'STOP', 0x28: 'MARK', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP',
  0x4e: 'NONE', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2',
  0x8a: 'LONG1', 0x8b: 'LONG4', 0x47: 'BINFLOAT', 0x58: 'BINUNICODE', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x29: 'EMPTY_TUPLE', 0x74: 'TUPLE', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x5d: 'EMPTY_LIST', 0x61: 'APPEND', 0x65: 'APPENDS', 0x6c: 'LIST', 0x7d: 'EMPTY_DICT', 0x64: 'DICT',
  0x73: 'SETITEM', 0x75: 'SETITEMS', 0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x62: 'BUILD',
  0x51: 'BINPERSID', 0x68: 'BINGET', 0x6a: 'LONG_BINGET', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x94: 'MEMOIZE',
};
/** Names of the opcodes this unpickler executes. */
export const SUPPORTED_OPCODES = Object.freeze(Object.values(OPNAMES));

const tuple = (items) => Object.freeze(items);
const isTuple = (v) => Array.isArray(v) && Object.isFrozen(v);

function describe(v) {
  if (v === null) return 'None';
  if (v instanceof PickleGlobal) return v.name;
  if (v instanceof Map) return 'dict';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}

/**
 * Unpickles bytes (Uint8Array). Options:
 *   globals            Map or object "module.name" → PickleGlobal: the only globals GLOBAL may load
 *   persistentLoad     (pid) → value, for BINPERSID (absent: BINPERSID is an Error)
 *   build              (obj, state) → obj: BUILD handler (absent: BUILD on a dict stores state as obj.pickleState)
 *   what               prefix for error messages (e.g. the file and entry)
 * Throws an Error for malformed data, unsupported opcodes and globals outside the allow-list.
 */
export function unpickle(bytes, opts = {}) {
  const what = opts.what ?? 'pickle';
  const globals = opts.globals instanceof Map ? opts.globals : new Map(Object.entries(opts.globals ?? {}));
  const n = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  let pos = 0;
  let opPos = 0;
  let op = 0;
  const stack = [];
  const marks = [];
  const memo = new Map();

  const fail = (msg) => new Error(`${what}: ${msg} (opcode ${OPNAMES[op] ?? '0x' + op.toString(16)} at byte ${opPos})`);
  const need = (k) => {
    if (pos + k > n) throw fail(`truncated pickle: ${k} bytes needed, ${n - pos} left`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), dv.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), dv.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = dv.getUint32(pos + 4, true) * 2 ** 32 + dv.getUint32(pos, true);
    pos += 8;
    return v;
  };
  const take = (k) => {
    if (!Number.isSafeInteger(k) || k < 0) throw fail(`bad length ${k}`);
    need(k);
    pos += k;
    return bytes.subarray(pos - k, pos);
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > MAX_GLOBAL_LINE) throw fail('malformed GLOBAL (no newline-terminated name)');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const floor = () => (marks.length ? marks[marks.length - 1] : 0);
  const pop = () => {
    if (stack.length <= floor()) throw fail('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length <= floor()) throw fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    if (!marks.length) throw fail('no MARK on the stack');
    return stack.splice(marks.pop());
  };
  const long = (raw) => {
    if (raw.length > MAX_LONG_BYTES) throw fail(`integer of ${raw.length} bytes is too large`);
    if (raw.length === 0) return 0;
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const loadGlobal = (module, name) => {
    const key = `${module}.${name}`;
    const g = globals.get(key);
    if (!(g instanceof PickleGlobal)) {
      throw fail(`refusing to load global ${key}: not in the allow-list (${[...globals.keys()].join(', ') || 'none'}); the file may be malicious`);
    }
    return g;
  };
  const setItems = (d, items) => {
    if (!(d instanceof Map)) throw fail(`SETITEM on a ${describe(d)}`);
    if (items.length % 2) throw fail('odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
  };
  const append = (l, items) => {
    if (!Array.isArray(l) || Object.isFrozen(l)) throw fail(`APPEND to a ${describe(l)}`);
    for (const x of items) l.push(x);
  };

  while (true) {
    if (pos >= n) throw fail('truncated pickle: no STOP opcode');
    opPos = pos;
    op = bytes[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p > 5) throw fail(`pickle protocol ${p} is not supported`);
        break;
      }
      case 0x95: u64(); break; // FRAME: framing is transparent here
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length) throw fail(`malformed pickle: ${stack.length} values and ${marks.length} marks on the stack at STOP`);
        return stack[0];
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(long(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const k = i32();
        if (k < 0) throw fail(`negative LONG4 length ${k}`);
        stack.push(long(take(k)));
        break;
      }
      case 0x47: stack.push((need(8), (pos += 8), dv.getFloat64(pos - 8, false))); break; // BINFLOAT (big-endian)
      case 0x58: stack.push(utf8.decode(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(utf8.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8.decode(take(u64()))); break; // BINUNICODE8
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x54: { // BINSTRING (Python 2 str)
        const k = i32();
        if (k < 0) throw fail(`negative BINSTRING length ${k}`);
        stack.push(latin1.decode(take(k)));
        break;
      }
      case 0x55: stack.push(latin1.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(tuple([a, b, c])); break; } // TUPLE3
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x61: { const x = pop(); append(top(), [x]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const d = new Map(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x63: { const module = line(); const name = line(); stack.push(loadGlobal(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL needs two strings');
        stack.push(loadGlobal(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), f = pop();
        if (!(f instanceof PickleGlobal) || typeof f.call !== 'function') throw fail(`REDUCE: ${describe(f)} is not callable here`);
        if (!isTuple(args)) throw fail(`REDUCE: arguments of ${f.name} are a ${describe(args)}, not a tuple`);
        let v;
        try {
          v = f.call(args, f.name);
        } catch (e) {
          throw fail(`${f.name}: ${e.message}`);
        }
        stack.push(v);
        break;
      }
      case 0x62: { // BUILD
        const state = pop(), obj = top();
        if (opts.build) {
          try {
            stack[stack.length - 1] = opts.build(obj, state);
          } catch (e) {
            throw fail(`BUILD: ${e.message}`);
          }
        } else if (obj instanceof Map) obj.pickleState = state;
        else throw fail(`BUILD on a ${describe(obj)} is not supported`);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) throw fail('persistent ids are not supported');
        let v;
        try {
          v = opts.persistentLoad(pid);
        } catch (e) {
          throw fail(e.message);
        }
        stack.push(v);
        break;
      }
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) throw fail(`memo key ${i} is undefined`);
        stack.push(memo.get(i));
        break;
      }
      case 0x71: case 0x72: memo.set(op === 0x71 ? u8() : u32(), top()); break; // BINPUT, LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      default: {
        const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
        throw new Error(`${what}: unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}${ch} at byte ${opPos} (wembed reads the subset torch.save writes)`);
      }
    }
  }
}
