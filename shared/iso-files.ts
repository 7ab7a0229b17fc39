/** The longest name an ISO file may have, in characters (the usual file system limit is 255 bytes). */
export const maxIsoFileNameLength = 200;

const isoFileNamePattern = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;

/**
 * Whether a file name may name an ISO file: letters, digits and `. _ + -`,
 * not starting with a dot or a dash (so no path components, no hidden
 * files, nothing an option parser could take), at most 200 characters.
 */
export function isIsoFileName(name: string): boolean {
  return name.length <= maxIsoFileNameLength && isoFileNamePattern.test(name);
}
