/**
 * The little XML colo-xl needs for libvirt domain documents: a writer that escapes every text and
 * attribute value, and a strict, namespace-aware parser. Strict means anything outside the
 * subset a libvirt document uses is refused with its line and column (DOCTYPE, unknown entities,
 * mismatched tags, duplicate attributes, undeclared prefixes) rather than being guessed at.
 */
import { ColoXlError } from '../errors.js';

/** The XML is malformed or outside the subset read (the message gives line and column). */
export class XmlError extends ColoXlError {
  constructor(message: string) {
    super('LIBVIRT_XML', message);
  }
}

export interface XmlElement {
  /** The qualified name as written (`colo:disk`). */
  name: string;
  /** The local part (`disk`). */
  local: string;
  /** The namespace URI, '' for none. */
  ns: string;
  /** Attributes by qualified name as written (namespace declarations excluded). */
  attrs: Map<string, string>;
  children: XmlElement[];
  /** Character data directly inside the element, concatenated. */
  text: string;
  line: number;
}

// ---------------------------------------------------------------- writing

/** Escapes character data and attribute values (both quote kinds, so either quoting works). */
export function xmlEscape(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/.test(s)) throw new XmlError(`value ${JSON.stringify(s)} has a character XML 1.0 cannot carry`);
  return s.replace(/[&<>"'\r\n\t]/g, (c) => ENTITY_OUT[c]!);
}
const ENTITY_OUT: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;', '\n': '&#10;', '\t': '&#9;',
};

export type AttrList = [string, string | number | null | undefined][];

/** Writes indented XML the way libvirt formats its documents (two spaces a level). */
export class XmlWriter {
  private out: string[] = [];
  private depth = 0;

  private attrs(attrs: AttrList): string {
    return attrs
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => ` ${k}='${xmlEscape(String(v))}'`)
      .join('');
  }
  private pad(): string {
    return '  '.repeat(this.depth);
  }
  open(name: string, attrs: AttrList = []): this {
    this.out.push(`${this.pad()}<${name}${this.attrs(attrs)}>\n`);
    this.depth++;
    return this;
  }
  close(name: string): this {
    this.depth--;
    this.out.push(`${this.pad()}</${name}>\n`);
    return this;
  }
  empty(name: string, attrs: AttrList = []): this {
    this.out.push(`${this.pad()}<${name}${this.attrs(attrs)}/>\n`);
    return this;
  }
  text(name: string, text: string, attrs: AttrList = []): this {
    this.out.push(`${this.pad()}<${name}${this.attrs(attrs)}>${xmlEscape(text)}</${name}>\n`);
    return this;
  }
  toString(): string {
    return this.out.join('');
  }
}

// ---------------------------------------------------------------- parsing

const NAME = /[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?/y;
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

// libxml2's xmlParserMaxDepth, which libvirt's parser keeps (it does not pass XML_PARSE_HUGE): an
// element may have at most this many open ancestors (parser.c:xmlParseElementStart). Bounding the
// depth also bounds this reader's recursion, so no document can exhaust the JS stack.
export const XML_MAX_DEPTH = 256;

/** Parses one document; throws XmlError naming the place and the element involved. */
export function parseXml(src: string): XmlElement {
  let pos = 0;
  // Line of `pos`, counted forward from the last answer: the reader only moves forward, so
  // numbering every element costs one pass over the document, not one per element.
  let counted = 0;
  let countedLine = 1;
  const lineAt = (): number => {
    if (pos < counted) {
      counted = 0;
      countedLine = 1;
    }
    for (let nl = src.indexOf('\n', counted); nl >= 0 && nl < pos; nl = src.indexOf('\n', nl + 1)) countedLine++;
    counted = pos;
    return countedLine;
  };
  const where = (): string => {
    const line = lineAt();
    return `line ${line}, column ${pos - (pos === 0 ? -1 : src.lastIndexOf('\n', pos - 1))}`;
  };
  const fail = (msg: string): never => {
    throw new XmlError(`bad XML at ${where()}: ${msg}`);
  };
  const skipWs = (): void => {
    while (pos < src.length && ' \t\r\n'.includes(src[pos]!)) pos++;
  };
  const name = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(src);
    if (!m) return fail('expected a name');
    pos += m[0].length;
    return m[0];
  };
  const decode = (raw: string, ctxName: string): string => {
    if (raw.includes('<')) fail(`'<' inside an attribute value of <${ctxName}>`);
    return raw.replace(/&([^;&\s]*);?/g, (all, ent: string) => {
      if (!all.endsWith(';')) return fail(`unterminated entity reference in <${ctxName}>`);
      const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
      if (Object.hasOwn(named, ent)) return named[ent]!;
      const m = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ent);
      if (!m) return fail(`unknown entity &${ent}; in <${ctxName}>`);
      const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10);
      if (cp === 0 || cp > 0x10ffff) return fail(`character reference &${ent}; out of range in <${ctxName}>`);
      return String.fromCodePoint(cp);
    });
  };
  // Comments, processing instructions and whitespace between elements.
  const misc = (allowDecl: boolean): void => {
    for (;;) {
      skipWs();
      if (src.startsWith('<!--', pos)) {
        const end = src.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (src.startsWith('<?', pos)) {
        const isDecl = /^<\?xml[\s?]/.test(src.slice(pos, pos + 6));
        if (isDecl && !allowDecl) fail('XML declaration not at the start');
        const end = src.indexOf('?>', pos);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else if (src.startsWith('<!DOCTYPE', pos)) {
        fail('DOCTYPE is not allowed in a libvirt document');
      } else return;
      allowDecl = false;
    }
  };

  // `ancestors`: how many elements are open around this one.
  const element = (scope: Map<string, string>, ancestors: number): XmlElement => {
    const line = lineAt();
    if (src[pos] !== '<') fail('expected an element');
    pos++;
    const qname = name();
    if (ancestors > XML_MAX_DEPTH) {
      fail(`excessive depth in document: <${qname}> has ${ancestors} open ancestors; libvirt's XML parser (libxml2) allows ${XML_MAX_DEPTH}`);
    }
    const raw = new Map<string, string>();
    for (;;) {
      const before = pos;
      skipWs();
      if (src.startsWith('/>', pos) || src[pos] === '>') break;
      if (pos === before) fail(`expected whitespace before an attribute of <${qname}>`);
      const an = name();
      skipWs();
      if (src[pos] !== '=') fail(`attribute ${an} of <${qname}> has no value`);
      pos++;
      skipWs();
      const q = src[pos];
      if (q !== '"' && q !== "'") return fail(`attribute ${an} of <${qname}> is not quoted`);
      const end = src.indexOf(q, pos + 1);
      if (end < 0) fail(`unterminated value of attribute ${an} of <${qname}>`);
      if (raw.has(an)) fail(`duplicate attribute ${an} on <${qname}>`);
      // literal white space in a value is normalised to spaces; character references survive
      raw.set(an, decode(src.slice(pos + 1, end).replace(/\r\n?|[\t\n]/g, ' '), qname));
      pos = end + 1;
    }
    const ns = new Map(scope);
    const attrs = new Map<string, string>();
    for (const [k, v] of raw) {
      if (k === 'xmlns') ns.set('', v);
      else if (k.startsWith('xmlns:')) {
        if (v === '') fail(`empty namespace for prefix ${k.slice(6)} on <${qname}>`);
        ns.set(k.slice(6), v);
      } else attrs.set(k, v);
    }
    for (const k of attrs.keys()) {
      const p = k.includes(':') ? k.split(':')[0]! : null;
      if (p !== null && p !== 'xml' && !ns.has(p)) fail(`undeclared namespace prefix ${p} on attribute ${k} of <${qname}>`);
    }
    const [prefix, local] = qname.includes(':') ? (qname.split(':') as [string, string]) : ['', qname];
    const uri = prefix === 'xml' ? XML_NS : ns.get(prefix);
    if (uri === undefined) fail(`undeclared namespace prefix ${prefix} on <${qname}>`);
    const el: XmlElement = { name: qname, local, ns: uri ?? '', attrs, children: [], text: '', line };
    if (src.startsWith('/>', pos)) {
      pos += 2;
      return el;
    }
    pos++;
    for (;;) {
      if (pos >= src.length) fail(`<${qname}> (line ${line}) is never closed`);
      if (src.startsWith('</', pos)) {
        pos += 2;
        const closing = name();
        if (closing !== qname) fail(`</${closing}> closes <${qname}> (line ${line})`);
        skipWs();
        if (src[pos] !== '>') fail(`expected '>' after </${closing}`);
        pos++;
        return el;
      }
      if (src.startsWith('<!--', pos)) {
        const end = src.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (src.startsWith('<![CDATA[', pos)) {
        const end = src.indexOf(']]>', pos);
        if (end < 0) fail(`unterminated CDATA section in <${qname}>`);
        el.text += src.slice(pos + 9, end);
        pos = end + 3;
      } else if (src.startsWith('<?', pos)) {
        const end = src.indexOf('?>', pos);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else if (src[pos] === '<') {
        el.children.push(element(ns, ancestors + 1));
      } else {
        const end = src.indexOf('<', pos);
        const stop = end < 0 ? src.length : end;
        const chunk = src.slice(pos, stop);
        if (chunk.includes(']]>')) fail(`']]>' in the text of <${qname}>`);
        el.text += decode(chunk.replaceAll('<', ''), qname);
        pos = stop;
      }
    }
  };

  if (src.charCodeAt(0) === 0xfeff) pos = 1;
  misc(true);
  if (pos >= src.length) fail('no root element');
  const root = element(new Map([['xml', XML_NS], ['', '']]), 0);
  misc(false);
  if (pos < src.length) fail(`content after the root element </${root.name}>`);
  return root;
}
