import fc from 'fast-check';

// The raw material of the fuzz cases: strings that break naive code, and values shaped like each
// scalar of the schema (most of them plausible, some of them subtly wrong).

export type Draw = fc.GeneratorValue;

/** One of `items`, drawn by index: fast-check compares the arguments of a draw, which a schema's cyclic objects would defeat. */
export const pick = <T>(g: Draw, items: readonly T[]): T => items[g(fc.integer, { min: 0, max: items.length - 1 })]!;
export const int = (g: Draw, min: number, max: number): number => g(fc.integer, { min, max });
/** True with probability `p`. */
export const chance = (g: Draw, p: number): boolean => int(g, 0, 9_999) < p * 10_000;

const specials = [
  '\u0000', '\u0001', '\u001f', '\u007f', '\u2028', '\u2029', '\ufeff', '\u202e', '\ufffd', '\uffff',
  '🪙', '👩‍👩‍👧', 'é', 'e\u0301', '\\', '"', "'", '`', '$', '{', '}', '\n', '\r\n', '\t', ' ', '%00',
  '<script>', "' OR 1=1 --", '${x}', '__proto__', 'constructor', 'null', 'undefined', 'NaN', '-0',
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** Strings that break naive code: NUL, lone surrogates, bidi controls, emoji, quotes, huge ones. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 4, arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...specials), loneSurrogate), { maxLength: 12 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'é', '🪙', '\u0000', ' ', '\ud800'), fc.integer({ min: 200, max: 120_000 })).map(([unit, n]) => unit.repeat(n)) },
  { weight: 1, arbitrary: fc.constant('') },
);

/** ASCII only: what an HTTP header can carry at all (the client would refuse anything else). */
export const asciiJunk: fc.Arbitrary<string> = fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, '?'));

const isoNear = (g: Draw) => new Date(Date.now() + int(g, -40, 40) * 86_400_000 + int(g, 0, 86_399_999)).toISOString();

const impossibleDates = [
  '2026-02-30T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-00-10T00:00:00.000Z', '2026-04-31T12:00:00.000Z',
  '2026-01-01T24:00:00.000Z', '2026-01-01T23:60:00.000Z', '2026-01-01T23:59:61.000Z', '+275760-09-13T00:00:00.000Z',
  '-000001-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z',
  '2026-01-01', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000+01:00', 'yesterday', '1e12', '',
];
const moneySpecials = ['0.00', '0.01', '1e3', '-1.00', '12.5', '12', '.50', '1.000', ' 1.00', '1.00 ', '1,00', '١٢.٣٤', '99999999999999999999.99', '10000000.01', '21474836.48', 'NaN', 'Infinity', '0x10.00'];
const intSpecials = [0, 1, -1, 20, 100, 101, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1.5, -0.5, 1e30, -1e30];

/** What a well-meaning client would send for a scalar: the values that get past validation to the resolvers. */
function plausibleScalar(g: Draw, name: string, known: readonly string[]): unknown {
  switch (name) {
    case 'Int':
      return int(g, 0, 30);
    case 'Float':
      return int(g, 0, 1_000) / 10;
    case 'Boolean':
      return g(fc.boolean);
    case 'ID':
      return known.length > 0 && chance(g, 0.85) ? pick(g, known) : g(fc.uuid);
    case 'Money':
      return `${int(g, 1, 2_000)}.${pick(g, ['00', '50', '99'])}`;
    case 'DateTime':
      return new Date(Date.now() + int(g, 1, 20) * 86_400_000).toISOString();
    default:
      return pick(g, ['Vintage camera', 'lamp', `fuzz-${int(g, 0, 1e9)}@example.com`, 'correct horse battery', '+14155550123', 'USD', 'A rangefinder in working order']);
  }
}

/** A value for a scalar of the schema, by its name; `known` holds ids that exist on the server. */
export function scalarValue(g: Draw, name: string, known: readonly string[], plausible = false): unknown {
  if (plausible) return plausibleScalar(g, name, known);
  switch (name) {
    case 'Int':
      return chance(g, 0.6) ? int(g, -5, 150) : pick(g, intSpecials);
    case 'Float':
      return g(fc.double, { noNaN: true, noDefaultInfinity: true });
    case 'Boolean':
      return g(fc.boolean);
    case 'ID':
      if (known.length > 0 && chance(g, 0.5)) return pick(g, known);
      return chance(g, 0.4) ? g(fc.uuid) : g(() => nastyString);
    case 'Money':
      if (chance(g, 0.55)) return `${int(g, 0, 20_000)}.${String(int(g, 0, 99)).padStart(2, '0')}`;
      return chance(g, 0.6) ? pick(g, moneySpecials) : g(() => nastyString);
    case 'DateTime':
      if (chance(g, 0.5)) return isoNear(g);
      return chance(g, 0.7) ? pick(g, impossibleDates) : g(() => nastyString);
    case 'String':
      return chance(g, 0.3) ? pick(g, ['Vintage camera', 'lamp', 'alice@example.com', 'correct horse battery', '+14155550123', 'USD']) : g(() => nastyString);
    default:
      return g(() => nastyString);
  }
}

/** Any JSON at all, sometimes very deep or very wide: what a careless or hostile client sends. */
export function wildJson(g: Draw): unknown {
  switch (int(g, 0, 5)) {
    case 0: {
      let value: unknown = 1;
      for (let depth = int(g, 50, 1_500); depth > 0; depth--) value = chance(g, 0.5) ? [value] : { a: value };
      return value;
    }
    case 1:
      return Object.fromEntries(Array.from({ length: int(g, 100, 5_000) }, (_, i) => [`k${i}`, i]));
    case 2:
      return g(() => nastyString);
    default:
      return g(fc.jsonValue, { maxDepth: 4 });
  }
}
