/** eBay-style bid increments: [price band upper bound (exclusive), increment], in minor units. */
const INCREMENT_BANDS: ReadonlyArray<readonly [number, number]> = [
  [1_00, 5],
  [5_00, 25],
  [25_00, 50],
  [100_00, 1_00],
  [250_00, 2_50],
  [500_00, 5_00],
  [1_000_00, 10_00],
  [2_500_00, 25_00],
  [5_000_00, 50_00],
];
const TOP_INCREMENT = 100_00;

/** The increment that applies above a current price. */
export function bidIncrement(currentPrice: number): number {
  for (const [upTo, increment] of INCREMENT_BANDS) if (currentPrice < upTo) return increment;
  return TOP_INCREMENT;
}

/** The lowest acceptable next bid: the starting price before any bid, else price plus increment. */
export function minimumNextBid(state: { startingPrice: number; currentPrice: number; bidCount: number }): number {
  return state.bidCount === 0 ? state.startingPrice : state.currentPrice + bidIncrement(state.currentPrice);
}

/** The table as flat pairs, for the Redis script, which must apply exactly the same rule. */
export const incrementTableArgs = (): number[] => [...INCREMENT_BANDS.flat(), TOP_INCREMENT];
