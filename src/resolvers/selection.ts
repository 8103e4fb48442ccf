import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * Whether the operation selects, under the field being resolved, only fields in `allowed`
 * (fragments expanded; `__typename` is always allowed). Fields under @skip or @include count as
 * selected, so the answer errs towards asking for more.
 */
export function selectsOnly(info: GraphQLResolveInfo, allowed: ReadonlySet<string>): boolean {
  const seen = new Set<string>();
  const within = (set: SelectionSetNode | undefined): boolean =>
    !set ||
    set.selections.every((selection) => {
      switch (selection.kind) {
        case Kind.FIELD:
          return selection.name.value === '__typename' || allowed.has(selection.name.value);
        case Kind.INLINE_FRAGMENT:
          return within(selection.selectionSet);
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (seen.has(name)) return true;
          seen.add(name);
          const fragment = info.fragments[name];
          return fragment !== undefined && within(fragment.selectionSet);
        }
      }
    });
  return info.fieldNodes.every((node) => within(node.selectionSet));
}
