/**
 * Opaque page tokens that only work for the listing they came from: a token from another listing (another
 * cluster, filter or operation) is refused with the service's own error, as a real service would.
 */
export function pageByOffset<T>(
  key: string,
  items: readonly T[],
  token: string | undefined,
  size: number,
  invalidToken: () => Error,
): { items: T[]; next?: string } {
  let offset = 0;
  if (token) {
    let decoded: { k?: string; o?: number } = {};
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k?: string; o?: number };
    } catch {
      decoded = {};
    }
    if (decoded.k !== key || typeof decoded.o !== 'number') throw invalidToken();
    offset = decoded.o;
  }
  const page = items.slice(offset, offset + size);
  const next =
    offset + size < items.length
      ? Buffer.from(JSON.stringify({ k: key, o: offset + size })).toString('base64url')
      : undefined;
  return next ? { items: page, next } : { items: page };
}
