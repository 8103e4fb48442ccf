import { Kind, TokenKind, type ASTNode, type Token } from 'graphql';

const VALUE_KINDS: ReadonlySet<string> = new Set([
  Kind.STRING,
  Kind.INT,
  Kind.FLOAT,
  Kind.BOOLEAN,
  Kind.NULL,
  Kind.ENUM,
  Kind.LIST,
  Kind.OBJECT,
  Kind.VARIABLE,
]);

const previous = (token: Token | null): Token | null => {
  let current = token?.prev ?? null;
  while (current?.kind === TokenKind.COMMENT) current = current.prev;
  return current;
};

/**
 * The argument, input field or variable a value written in a document belongs to, so that an invalid
 * literal can name it: `amount` for `placeBid(input: { amount: "12.345" })`. graphql-js hands a
 * scalar only the value's node, and a node has no parent, but its tokens still link to the ones
 * before it: the name sits before the nearest `:` outside any list or object the value is nested in.
 * Null when the document was parsed without locations.
 */
export function fieldOfLiteral(node: ASTNode | undefined): string | null {
  if (!node) return null;
  if (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) return node.name.value;
  if (node.kind === Kind.VARIABLE_DEFINITION) return node.variable.name.value;
  if (!VALUE_KINDS.has(node.kind)) return null;
  let depth = 0;
  for (let token = previous(node.loc?.startToken ?? null); token; token = previous(token)) {
    if (token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.BRACE_R) depth += 1;
    else if (token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.BRACE_L) {
      if (depth > 0) depth -= 1;
      // A value never directly follows `{`: the node is not a value of an argument or field.
      else if (token.kind === TokenKind.BRACE_L) return null;
    } else if (depth === 0 && token.kind === TokenKind.COLON) {
      const name = previous(token);
      return name?.kind === TokenKind.NAME ? name.value : null;
    } else if (depth === 0 && token.kind === TokenKind.EQUALS) {
      // A variable's default value: `$name: Type = value`.
      for (let back = previous(token); back; back = previous(back)) {
        if (back.kind === TokenKind.DOLLAR) return back.next?.kind === TokenKind.NAME ? back.next.value : null;
      }
      return null;
    }
  }
  return null;
}

/** A refused value as an error message quotes it: JSON, cut short so a huge value is not echoed back whole. */
export function shownValue(value: unknown): string {
  const shown = value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}
