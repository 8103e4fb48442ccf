import { describe, expect, it } from 'vitest';
import { hidingSuggestions, withoutSuggestions } from '../../src/http/suggestions.js';

describe('hiding "Did you mean" suggestions', () => {
  it.each([
    ['Cannot query field "titel" on type "Auction". Did you mean "title"?', 'Cannot query field "titel" on type "Auction".'],
    ['Unknown argument "frist" on field "Query.auctions". Did you mean "first" or "after"?', 'Unknown argument "frist" on field "Query.auctions".'],
    [
      'Variable "$status" got invalid value "ACTIV"; Value "ACTIV" does not exist in "AuctionStatus" enum. Did you mean the enum value "ACTIVE"?',
      'Variable "$status" got invalid value "ACTIV"; Value "ACTIV" does not exist in "AuctionStatus" enum.',
    ],
    ['Cannot query field "x" on type "Query". Did you mean "me", "auction", or "auctions"?', 'Cannot query field "x" on type "Query".'],
  ])('drops the guesses from %j', (message, hidden) => {
    expect(withoutSuggestions(message)).toBe(hidden);
  });

  it('leaves messages without a guess as they are', () => {
    expect(withoutSuggestions('Bid too low.')).toBe('Bid too low.');
  });

  it('applies to what the wrapped formatter produced, keeping its extensions', () => {
    const format = hidingSuggestions((formatted) => ({ ...formatted, extensions: { code: 'BAD_USER_INPUT' } }));
    expect(format({ message: 'Cannot query field "titel" on type "Auction". Did you mean "title"?' }, undefined)).toEqual({
      message: 'Cannot query field "titel" on type "Auction".',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});
