/**
 * Count the Unicode code points of a string: the unit of every content limit, on server and client
 * alike. A surrogate pair counts as one; a lone surrogate counts as one.
 */
export function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const isHighSurrogate = unit >= 0xd800 && unit <= 0xdbff;
    if (isHighSurrogate && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
      }
    }
    count++;
  }
  return count;
}

/** Replace each lone surrogate with U+FFFD, so that the text encodes to valid UTF-8. */
export function toWellFormedText(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

// C0 and C1 control characters, which have no place in a display name.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Returns whether a display name contains a control character. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}
