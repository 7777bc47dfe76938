/**
 * Email addresses in the one form they are stored and compared in: printable ASCII, lower case.
 * Anything else is refused before any comparison: an invisible character ("\ufeffdev@example.com",
 * which String.prototype.trim() silently strips) or a look-alike letter (the Kelvin sign "\u212A"
 * lower-cases to "k") must never make two addresses equal, or one address two.
 */

/** Printable ASCII without space; one @; no quotes, brackets or separators; a dot in the domain. */
const ADDRESS = /^[^@"<>(),;:\\[\]]+@[^@"<>(),;:\\[\]]+\.[^@"<>(),;:\\[\]]+$/;
const PRINTABLE_ASCII = /^[\x21-\x7E]+$/;

/** The address in its stored form, or undefined if it is not one (no trimming beyond ASCII spaces and tabs). */
export function normaliseAddress(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const address = value.replace(/^[ \t]+|[ \t]+$/g, "");
  return PRINTABLE_ASCII.test(address) && ADDRESS.test(address) && address.length <= 320 ? address.toLowerCase() : undefined;
}
