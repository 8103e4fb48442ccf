import type { Random } from './random.js';

// Word lists the demo listings are assembled from. A category pairs each maker with the items it
// really makes (no Steinway electric guitars), and names the price bands its items sell in, as
// indexes into the bid-increment bands (0: under 1.00 ... 9: 5,000.00 and up).

interface Line {
  maker: string;
  items: readonly string[];
}

interface Category {
  name: string;
  bands: readonly [lowest: number, highest: number];
  qualifiers: readonly string[];
  lines: readonly Line[];
  /** Sentences about the item itself. */
  details: readonly string[];
  /** How a listing of this kind is titled, when "qualifier maker item" reads wrong. */
  title?: (qualifier: string, maker: string, item: string) => string;
  /** Whether ", 1960s" may follow the title (not where the item or its style names the period). */
  eras?: false;
  /** The earliest year such an item plausibly dates from, for the provenance sentences. */
  since: number;
}

const CATEGORIES: readonly Category[] = [
  {
    name: 'Cameras',
    since: 1930,
    bands: [2, 7],
    qualifiers: ['Vintage', 'Boxed', 'Serviced', 'Mint', 'Black paint', 'Chrome', 'Near mint', 'Film-tested'],
    lines: [
      { maker: 'Leica', items: ['M3 rangefinder', 'M6 rangefinder', 'IIIf rangefinder', 'Summicron 50mm f/2 lens', 'R4 SLR body'] },
      { maker: 'Nikon', items: ['F2 SLR body', 'FM2 SLR', 'F3 HP body', 'Nikkor 105mm f/2.5 lens', 'FE SLR with 50mm lens'] },
      { maker: 'Canon', items: ['AE-1 Program', 'F-1 SLR body', 'Canonet QL17 GIII', 'FD 50mm f/1.4 lens', 'A-1 SLR'] },
      { maker: 'Hasselblad', items: ['500C/M medium format camera', 'Planar 80mm f/2.8 lens', 'A12 film back'] },
      { maker: 'Rolleiflex', items: ['2.8F twin-lens reflex', '3.5E twin-lens reflex', 'T twin-lens reflex'] },
      { maker: 'Olympus', items: ['OM-1 SLR', 'XA rangefinder', 'Trip 35', 'mju-II compact', 'Pen-F half-frame camera'] },
      { maker: 'Pentax', items: ['Spotmatic SLR', 'K1000 SLR', '67 medium format body', 'SMC Takumar 50mm f/1.4 lens'] },
      { maker: 'Yashica', items: ['Mat-124G twin-lens reflex', 'Electro 35 GSN', 'T4 compact'] },
    ],
    details: [
      'The shutter fires at every speed and the slow speeds sound right.',
      'Glass is clear: no fungus, haze or separation.',
      'Light seals were replaced last year.',
      'The meter responds and agrees with a handheld meter within half a stop.',
      'A test roll was shot through it; sample scans on request.',
      'Comes with the original lens cap and strap.',
    ],
  },
  {
    name: 'Watches',
    since: 1930,
    bands: [3, 9],
    qualifiers: ['Vintage', 'Stainless steel', '18k gold', 'Gold-plated', 'Serviced', 'Full set', 'Unpolished'],
    lines: [
      { maker: 'Omega', items: ['Speedmaster Professional', 'Seamaster automatic', 'Constellation chronometer', 'De Ville dress watch'] },
      { maker: 'Rolex', items: ['Oyster Perpetual', 'Datejust 36', 'Submariner', 'Air-King'] },
      { maker: 'Seiko', items: ['5 automatic', 'SKX007 diver', 'Bell-Matic', 'Grand Seiko Hi-Beat', '6139 chronograph'] },
      { maker: 'Longines', items: ['Conquest automatic', 'Flagship dress watch', 'calibre 30L manual-wind watch'] },
      { maker: 'Heuer', items: ['Carrera chronograph', 'Autavia chronograph', 'Monaco'] },
      { maker: 'Hamilton', items: ['Khaki Field mechanical', 'Ventura', 'Boulton dress watch'] },
      { maker: 'Tudor', items: ['Black Bay 58', 'Prince Oysterdate', 'Ranger'] },
      { maker: 'Waltham', items: ['pocket watch', 'railroad-grade pocket watch', 'trench watch'] },
    ],
    details: [
      'It keeps time within a few seconds a day on the timegrapher.',
      'The crystal is free of chips; light marks on the case from wear.',
      'Serviced by an independent watchmaker, with the invoice.',
      'The dial is original and has aged evenly.',
      'Supplied on a period-correct leather strap; the original bracelet is included.',
    ],
  },
  {
    name: 'Records',
    since: 1960,
    bands: [0, 5],
    title: (qualifier, artist, record) => `${artist} – ${record} (${qualifier})`,
    eras: false,
    qualifiers: ['Original', 'First pressing', 'Reissue', 'Japanese pressing', 'Promo copy', 'Sealed', 'Mono'],
    lines: [
      { maker: 'Miles Davis', items: ['Kind of Blue LP', 'Bitches Brew double LP', 'Sketches of Spain LP'] },
      { maker: 'The Beatles', items: ['Abbey Road LP', 'Revolver LP', 'Let It Be box set', '"Help!" 7" single'] },
      { maker: 'Fleetwood Mac', items: ['Rumours LP', 'Tusk double LP', '"Dreams" 7" single'] },
      { maker: 'Nina Simone', items: ['Wild Is the Wind LP', 'Pastel Blues LP', 'I Put a Spell on You LP'] },
      { maker: 'David Bowie', items: ['Hunky Dory LP', 'Low LP', '"Heroes" 12" single', 'Ziggy Stardust LP'] },
      { maker: 'Kraftwerk', items: ['Trans-Europe Express LP', 'Autobahn LP', 'The Man-Machine LP'] },
      { maker: 'Aretha Franklin', items: ['Lady Soul LP', 'Amazing Grace double LP', '"Respect" 7" single'] },
      { maker: 'Pink Floyd', items: ['The Dark Side of the Moon LP', 'Wish You Were Here LP', 'Animals LP'] },
    ],
    details: [
      'Vinyl grades VG+: plays through with light surface noise in the run-in.',
      'Sleeve has minor ring wear and no splits.',
      'Inner sleeve and insert are present.',
      'Played once and stored upright since.',
      'Matrix numbers in the dead wax confirm the pressing.',
    ],
  },
  {
    name: 'Furniture',
    since: 1920,
    eras: false,
    bands: [3, 8],
    qualifiers: ['Mid-century', 'Art Deco', 'Victorian', 'Danish', 'Edwardian', 'Industrial', 'Arts and Crafts', 'Bauhaus'],
    lines: [
      { maker: 'teak', items: ['sideboard', 'extending dining table', 'bookcase', 'nest of tables', 'writing desk'] },
      { maker: 'oak', items: ['chest of drawers', 'refectory table', 'bureau', 'hall stand', 'blanket box'] },
      { maker: 'walnut', items: ['cocktail cabinet', 'dressing table', 'side table', 'credenza'] },
      { maker: 'mahogany', items: ['bookcase', 'wardrobe', 'pedestal desk', 'drop-leaf table'] },
      { maker: 'rosewood', items: ['sideboard', 'coffee table', 'set of four dining chairs'] },
      { maker: 'steel and leather', items: ['armchair', 'lounge chair', 'office chair', 'pair of bar stools'] },
    ],
    details: [
      'Solid construction; nothing wobbles and every drawer or door runs smoothly.',
      'The finish has a warm patina; a few small marks on the top.',
      'Recently refinished with oil and wax.',
      'Measures roughly 180 cm wide, 45 cm deep and 80 cm high.',
      'The legs unscrew for transport.',
    ],
  },
  {
    name: 'Art',
    since: 1920,
    bands: [1, 9],
    qualifiers: ['Signed', 'Framed', 'Limited edition', 'Unframed', 'Original', 'Numbered'],
    lines: [
      { maker: 'oil painting', items: ['of a harbour at dusk', 'of a mountain landscape', 'still life with flowers', 'portrait of a woman in blue', 'of a city street at night'] },
      { maker: 'watercolour', items: ['of a coastal village', 'of a country lane', 'of boats on a river', 'botanical study'] },
      { maker: 'lithograph', items: ['abstract composition', 'of a circus scene', 'of dancers', 'after a Paris poster'] },
      { maker: 'etching', items: ['of a cathedral interior', 'of a bridge in winter', 'of a farmyard'] },
      { maker: 'screen print', items: ['in bold primary colours', 'of a soup can', 'of a seaside pier'] },
      { maker: 'charcoal drawing', items: ['figure study', 'of an old oak tree', 'self-portrait'] },
    ],
    details: [
      'Signed lower right and titled on the reverse.',
      'Sheet size about 50 by 70 cm; the frame adds 8 cm each side.',
      'Bought from a gallery in the 1980s; the label remains on the back.',
      'Colours are bright with no fading or foxing.',
      'Mounted behind glass with an acid-free mount.',
    ],
  },
  {
    name: 'Jewellery',
    since: 1920,
    eras: false,
    bands: [2, 9],
    qualifiers: ['Sterling silver', '9ct gold', '14k gold', '18k gold', 'Platinum', 'Art Deco', 'Georgian', 'Victorian'],
    lines: [
      { maker: 'sapphire', items: ['ring', 'pendant necklace', 'bracelet', 'pair of earrings'] },
      { maker: 'diamond', items: ['solitaire ring', 'tennis bracelet', 'stud earrings', 'eternity band'] },
      { maker: 'emerald', items: ['cluster ring', 'drop earrings', 'brooch'] },
      { maker: 'pearl', items: ['necklace', 'bracelet', 'pair of cufflinks'] },
      { maker: 'opal', items: ['ring', 'pendant', 'brooch'] },
      { maker: 'garnet', items: ['cluster brooch', 'ring', 'necklace'] },
    ],
    details: [
      'Hallmarked and tested; the weight is about 6 grams.',
      'Stones are secure and the settings show no wear.',
      'Ring size N (US 6.5); can be resized by a jeweller.',
      'Supplied in a fitted box.',
      'A valuation certificate from 2019 is included.',
    ],
  },
  {
    name: 'Coins and stamps',
    since: 1950,
    bands: [0, 9],
    title: (qualifier, kind, variety) => (/^\d/.test(variety) ? `${qualifier} ${variety} ${kind}` : `${qualifier} ${kind} ${variety}`),
    eras: false,
    qualifiers: ['Graded', 'Uncirculated', 'Proof', 'Circulated', 'Certified', 'Rare'],
    lines: [
      { maker: 'Morgan silver dollar', items: ['1881-S', '1921', '1889-O', '1904'] },
      { maker: 'Gold sovereign', items: ['1911', 'Victoria 1887 Jubilee head', 'Edward VII 1902'] },
      { maker: 'Penny Black stamp', items: ['with four margins', 'on a cover', 'plate 5'] },
      { maker: 'Kennedy half dollar', items: ['1964', '1964 proof', '1970-D'] },
      { maker: 'Roman coin', items: ['bronze follis of Constantine', 'silver denarius of Trajan', 'antoninianus of Gallienus'] },
      { maker: 'stamp collection', items: ['in a Stanley Gibbons album', 'of first day covers', 'of the British Empire', 'of airmail issues'] },
    ],
    details: [
      'Sharp strike with full detail in the hair.',
      'Graded and slabbed; the certificate number checks out online.',
      'Light toning on both sides, as the photos show.',
      'Stored in acid-free sleeves since it was bought.',
      'A few hinge marks on the reverse; the gum is otherwise intact.',
    ],
  },
  {
    name: 'Toys and games',
    since: 1950,
    bands: [1, 6],
    qualifiers: ['Boxed', 'Complete', 'Vintage', 'Sealed', 'Rare', 'Play-worn'],
    lines: [
      { maker: 'LEGO', items: ['Galaxy Explorer set 497', 'Town fire station', 'Technic supercar 8880', 'Castle set 6080'] },
      { maker: 'Hornby', items: ['OO gauge train set', 'Flying Scotsman locomotive', 'Mallard locomotive'] },
      { maker: 'Märklin', items: ['HO locomotive', 'starter set with track'] },
      { maker: 'Corgi', items: ['James Bond Aston Martin DB5', 'Batmobile', 'Land Rover with trailer'] },
      { maker: 'Steiff', items: ['mohair teddy bear', 'dachshund on wheels', 'rabbit with button in ear'] },
      { maker: 'Nintendo', items: ['Game Boy with Tetris', 'NES console with two controllers', 'Game & Watch Donkey Kong'] },
      { maker: 'Meccano', items: ['outfit no. 7', 'clockwork motor set'] },
    ],
    details: [
      'Every piece is present and checked against the instructions.',
      'The box shows shelf wear; the contents are clean.',
      'Tested and working.',
      'From a smoke-free home.',
      'Original instructions and inserts are included.',
    ],
  },
  {
    name: 'Books',
    since: 1940,
    bands: [0, 9],
    title: (qualifier, author, book) => `${book} by ${author} (${qualifier})`,
    eras: false,
    qualifiers: ['First edition', 'Signed', 'Early printing', 'Illustrated edition', 'Leather-bound', 'Book club edition'],
    lines: [
      { maker: 'J. R. R. Tolkien', items: ['The Hobbit', 'The Fellowship of the Ring', 'The Silmarillion'] },
      { maker: 'Jane Austen', items: ['Pride and Prejudice', 'Emma', 'Persuasion'] },
      { maker: 'Herman Melville', items: ['Moby-Dick', 'Billy Budd'] },
      { maker: 'F. Scott Fitzgerald', items: ['The Great Gatsby', 'Tender Is the Night'] },
      { maker: 'Mary Shelley', items: ['Frankenstein'] },
      { maker: 'Agatha Christie', items: ['Murder on the Orient Express', 'The Murder of Roger Ackroyd', 'Death on the Nile'] },
      { maker: 'Ian Fleming', items: ['Casino Royale', 'Goldfinger', 'Dr. No'] },
    ],
    details: [
      'The binding is tight and the pages are clean.',
      'The dust jacket is present, price-clipped, with small chips at the spine ends.',
      'An earlier owner wrote their name on the front endpaper.',
      'Housed in a custom slipcase.',
      'Light foxing to the first and last pages.',
    ],
  },
  {
    name: 'Musical instruments',
    since: 1950,
    bands: [4, 9],
    qualifiers: ['Vintage', 'Player-grade', 'Collector-grade', 'Restored', 'All-original', 'Left-handed'],
    lines: [
      { maker: 'Fender', items: ['Stratocaster', 'Telecaster', 'Precision Bass', 'Jazzmaster', 'Twin Reverb amplifier'] },
      { maker: 'Gibson', items: ['Les Paul Standard', 'SG Special', 'ES-335', 'J-45 acoustic'] },
      { maker: 'Martin', items: ['D-28 acoustic', '000-18 acoustic', 'D-18 acoustic'] },
      { maker: 'Selmer', items: ['Mark VI alto saxophone', 'Mark VI tenor saxophone'] },
      { maker: 'Roland', items: ['Juno-60 synthesizer', 'TR-808 drum machine', 'Jupiter-8 synthesizer'] },
      { maker: 'Ludwig', items: ['Supraphonic snare drum', 'four-piece drum kit'] },
      { maker: 'Steinway', items: ['Model M grand piano', 'upright piano'] },
    ],
    details: [
      'Plays well with low action and no fret buzz.',
      'Set up last month with new strings.',
      'Finish checking consistent with its age; no breaks or repairs.',
      'Comes with the original hard case.',
      'Every key and voice works; the battery was replaced.',
    ],
  },
  {
    name: 'Ceramics and glass',
    since: 1920,
    bands: [1, 7],
    qualifiers: ['Signed', 'Hand-painted', 'Mid-century', 'Art Nouveau', 'Studio', 'Rare'],
    lines: [
      { maker: 'Moorcroft', items: ['pomegranate vase', 'anemone bowl', 'ginger jar'] },
      { maker: 'Wedgwood', items: ['jasperware vase', 'tea set for six', 'fairyland lustre bowl'] },
      { maker: 'Murano', items: ['sommerso vase', 'glass clown figurine', 'millefiori paperweight', 'chandelier'] },
      { maker: 'Lalique', items: ['frosted glass bowl', 'perfume bottle', 'bird figurine'] },
      { maker: 'Clarice Cliff', items: ['Bizarre jug', 'Crocus teapot', 'conical sugar sifter'] },
      { maker: 'Poole Pottery', items: ['Delphis charger', 'Aegean vase'] },
    ],
    details: [
      'No chips, cracks or restoration under a UV lamp.',
      'Marked on the base.',
      'Stands about 25 cm tall.',
      'Small glaze flaw from the kiln, shown in the photos.',
    ],
  },
  {
    name: 'Retro technology',
    since: 1980,
    bands: [1, 7],
    qualifiers: ['Working', 'Boxed', 'Refurbished', 'Vintage', 'Collector-grade', 'For parts or repair'],
    lines: [
      { maker: 'Apple', items: ['Macintosh Classic', 'iPod classic 160GB', 'Apple IIe computer', 'PowerBook G4'] },
      { maker: 'Commodore', items: ['64 home computer', 'Amiga 500', 'VIC-20'] },
      { maker: 'Sony', items: ['Walkman WM-2', 'Trinitron TV', 'Discman D-50', 'PlayStation console'] },
      { maker: 'Technics', items: ['SL-1200MK2 turntable', 'SU-V8 amplifier'] },
      { maker: 'Bang & Olufsen', items: ['Beogram 4000 turntable', 'Beosound 9000 CD player', 'Beolab speakers'] },
      { maker: 'Sinclair', items: ['ZX Spectrum 48K', 'ZX81', 'C5 electric vehicle'] },
    ],
    details: [
      'Powers up and passes its self-test.',
      'Recapped and cleaned inside.',
      'Yellowing to the case plastics, typical for its age.',
      'Comes with the power supply and a handful of original cassettes.',
    ],
  },
];

const CONDITIONS = [
  'In excellent condition with only light signs of use.',
  'Checked over carefully and ready to enjoy.',
  'Some wear consistent with age; please look closely at the photos.',
  'Unused and still in its original packaging.',
  'Sold as seen.',
  'Very good condition for its age.',
  'Cleaned and ready to use.',
];

const PROVENANCE = [
  'From a private collection in {city}.',
  'Bought new in {year} by the original owner.',
  'An estate find, never restored.',
  'Comes with the original receipt from {year}.',
  'In the family since {year}.',
  'Acquired at auction in {city} in {year}.',
];

const SHIPPING = [
  'Ships insured within two working days.',
  'Collection in person from {city} is welcome.',
  'Worldwide shipping at cost.',
  'Combined postage for multiple wins.',
  'Packed carefully in double boxes.',
  'Questions welcome before bidding.',
];

const CITIES = ['Lisbon', 'Leeds', 'Portland', 'Lyon', 'Utrecht', 'Melbourne', 'Austin', 'Glasgow', 'Hamburg', 'Toronto', 'Kyoto', 'Bristol'];

export interface Listing {
  category: string;
  title: string;
  description: string;
  /** The bid-increment bands an item like this sells in, lowest and highest. */
  bands: readonly [number, number];
}

/** A realistic listing drawn from the word lists: a title and a few sentences of description. */
export function drawListing(random: Random): Listing {
  const category = random.pick(CATEGORIES);
  const line = random.pick(category.lines);
  const item = random.pick(line.items);
  const qualifier = random.pick(category.qualifiers);
  const decade = random.int(Math.ceil(category.since / 10), 199) * 10;
  const era = category.eras !== false && random.chance(0.35) ? `, ${decade}s` : '';
  const title = `${category.title ? category.title(qualifier, line.maker, item) : `${qualifier} ${line.maker} ${item}`}${era}`;

  const fill = (sentence: string) =>
    sentence.replace('{city}', random.pick(CITIES)).replace('{year}', String(random.int(decade, Math.min(decade + 25, 2020))));
  const detailCount = random.int(1, 2);
  const details = new Set<string>();
  while (details.size < Math.min(detailCount, category.details.length)) details.add(random.pick(category.details));
  const sentences = [random.pick(CONDITIONS), ...details, fill(random.pick(PROVENANCE))];
  if (random.chance(0.7)) sentences.push(fill(random.pick(SHIPPING)));
  return { category: category.name, title, description: sentences.join(' '), bands: category.bands };
}

const FIRST_NAMES = [
  'Ada', 'Grace', 'Alan', 'Maya', 'Omar', 'Lena', 'Kofi', 'Ines', 'Ravi', 'Sofia', 'Tomas', 'Yuki', 'Noah', 'Amara', 'Lucas', 'Freya',
  'Diego', 'Hana', 'Felix', 'Zara', 'Emil', 'Nadia', 'Arjun', 'Clara', 'Mateo', 'Ingrid', 'Samir', 'Olga', 'Jonas', 'Priya',
];
const LAST_INITIALS = 'ABCDEFGHJKLMNPRSTVW';

/** A display name for the nth demo user of a role: stable, so a reused account keeps its name. */
export function demoDisplayName(index: number): string {
  const first = FIRST_NAMES[index % FIRST_NAMES.length]!;
  const initial = LAST_INITIALS[Math.floor(index / FIRST_NAMES.length) % LAST_INITIALS.length]!;
  return `${first} ${initial}.`;
}
