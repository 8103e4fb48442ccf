import { Kind, parse, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { selectsOnly } from '../../src/resolvers/selection.js';

const LIVE = new Set(['id', 'currentPrice', 'minimumNextBid']);

/** The resolve info of `placeBid.auction` in the document: only what selectsOnly reads. */
function infoOfAuction(document: string): GraphQLResolveInfo {
  const parsed = parse(document);
  const operation = parsed.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const placeBid = operation.selectionSet.selections[0] as FieldNode;
  const auctions = placeBid.selectionSet!.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'auction');
  const fragments = Object.fromEntries(
    parsed.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  return { fieldNodes: auctions, fragments } as unknown as GraphQLResolveInfo;
}

describe('selectsOnly', () => {
  it('takes a selection of allowed fields, __typename, inline fragments and named fragments', () => {
    const document = `mutation { placeBid { auction { id __typename ... on Auction { currentPrice } ...Price } auction { minimumNextBid } } }
      fragment Price on Auction { currentPrice ...Price }`;
    expect(selectsOnly(infoOfAuction(document), LIVE)).toBe(true);
  });

  it('refuses a selection with any other field, however deep in fragments it hides', () => {
    expect(selectsOnly(infoOfAuction('mutation { placeBid { auction { id title } } }'), LIVE)).toBe(false);
    expect(selectsOnly(infoOfAuction('mutation { placeBid { auction { id } auction { seller { id } } } }'), LIVE)).toBe(false);
    const hidden = `mutation { placeBid { auction { ... on Auction { ...Outer } } } }
      fragment Outer on Auction { id ...Inner } fragment Inner on Auction { reserveStatus }`;
    expect(selectsOnly(infoOfAuction(hidden), LIVE)).toBe(false);
    expect(selectsOnly(infoOfAuction('mutation { placeBid { auction { ...Missing } } }'), LIVE)).toBe(false);
  });
});
