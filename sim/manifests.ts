/**
 * Realistic image manifests for the simulated registry, as the exact bytes a registry stores.
 *
 * A registry names a manifest by the sha256 of its exact bytes, so builders return the text itself and
 * the digest of that text: re-serialising the JSON (other whitespace, other key order) is another image.
 * See: https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
 */
import { createHash } from 'node:crypto';

/** Manifest, config and layer media types (Docker image manifest v2 schema 2, OCI image spec v1). */
export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The media types that name a list of other manifests rather than an image. */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.dockerManifestList, MediaType.ociIndex];

/** `sha256:` + the hex sha256 of the UTF-8 bytes of `text`. */
export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

/** A built manifest: its exact text, media type and digest, and what it references. */
export interface BuiltManifest {
  readonly text: string;
  readonly mediaType: string;
  readonly digest: string;
  /** size of `text` in bytes, as a descriptor that references it states */
  readonly size: number;
  /** config and layer blobs an image manifest references (empty for an index) */
  readonly blobs: readonly { readonly digest: string; readonly size: number }[];
  /** child manifest digests an index references (empty for an image manifest) */
  readonly children: readonly string[];
}

export interface ImageManifestOptions {
  /** anything that makes the image distinct: the same seed gives the same bytes and digest */
  readonly seed: string;
  /** number of layers (default 2) */
  readonly layers?: number;
  /** OCI only: `artifactType`, for artifacts such as signatures or SBOMs */
  readonly artifactType?: string;
}

export interface IndexChild {
  readonly manifest: BuiltManifest;
  readonly platform: Platform;
}

function seededBlob(seed: string, role: string, index: number): { digest: string; size: number } {
  const digest = digestOf(`${seed}/${role}/${index}`);
  // a stable, plausible compressed size derived from the digest
  const size = 1_000 + (parseInt(digest.slice(7, 13), 16) % 30_000_000);
  return { digest, size };
}

function built(
  text: string,
  mediaType: string,
  blobs: BuiltManifest['blobs'],
  children: readonly string[],
): BuiltManifest {
  return { text, mediaType, digest: digestOf(text), size: Buffer.byteLength(text, 'utf8'), blobs, children };
}

// Docker's registry client writes manifests indented with three spaces; keep that so the bytes look real.
const DOCKER_INDENT = 3;

/** A Docker image manifest, v2 schema 2. */
export function dockerManifest(options: ImageManifestOptions): BuiltManifest {
  const config = seededBlob(options.seed, 'config', 0);
  const layers = Array.from({ length: options.layers ?? 2 }, (_, i) => seededBlob(options.seed, 'layer', i));
  const document = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: MediaType.dockerLayer, size: l.size, digest: l.digest })),
  };
  return built(JSON.stringify(document, null, DOCKER_INDENT), MediaType.dockerManifest, [config, ...layers], []);
}

/** An OCI image manifest (compact JSON, as buildkit writes it). */
export function ociManifest(options: ImageManifestOptions): BuiltManifest {
  const config = seededBlob(options.seed, 'config', 0);
  const layers = Array.from({ length: options.layers ?? 2 }, (_, i) => seededBlob(options.seed, 'layer', i));
  const document = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: MediaType.ociLayer, digest: l.digest, size: l.size })),
  };
  return built(JSON.stringify(document), MediaType.ociManifest, [config, ...layers], []);
}

/** A Docker manifest list referencing child manifests by digest, one per platform. */
export function dockerManifestList(children: readonly IndexChild[]): BuiltManifest {
  const document = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifestList,
    manifests: children.map((c) => ({
      mediaType: c.manifest.mediaType,
      size: c.manifest.size,
      digest: c.manifest.digest,
      platform: c.platform,
    })),
  };
  return built(
    JSON.stringify(document, null, DOCKER_INDENT),
    MediaType.dockerManifestList,
    [],
    children.map((c) => c.manifest.digest),
  );
}

/** An OCI image index referencing child manifests by digest, one per platform. */
export function ociIndex(children: readonly IndexChild[]): BuiltManifest {
  const document = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: children.map((c) => ({
      mediaType: c.manifest.mediaType,
      digest: c.manifest.digest,
      size: c.manifest.size,
      platform: c.platform,
    })),
  };
  return built(
    JSON.stringify(document),
    MediaType.ociIndex,
    [],
    children.map((c) => c.manifest.digest),
  );
}

/** What a registry reads out of a manifest it is given. */
export interface ParsedManifest {
  /** the `mediaType` field, when the manifest has one */
  readonly mediaType?: string | undefined;
  readonly artifactType?: string | undefined;
  readonly blobs: readonly { readonly digest: string; readonly size: number }[];
  readonly children: readonly string[];
}

/** Parses manifest text; throws `SyntaxError` on text that is not a JSON object. */
export function parseManifest(text: string): ParsedManifest {
  const document: unknown = JSON.parse(text);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new SyntaxError('a manifest is a JSON object');
  }
  const d = document as Record<string, unknown>;
  const descriptor = (v: unknown): { digest: string; size: number } | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    const { digest, size } = v as Record<string, unknown>;
    return typeof digest === 'string' ? { digest, size: typeof size === 'number' ? size : 0 } : undefined;
  };
  const list = (v: unknown) =>
    Array.isArray(v) ? v.map(descriptor).filter((x): x is { digest: string; size: number } => !!x) : [];
  const config = descriptor(d.config);
  return {
    mediaType: typeof d.mediaType === 'string' ? d.mediaType : undefined,
    artifactType: typeof d.artifactType === 'string' ? d.artifactType : undefined,
    blobs: [...(config ? [config] : []), ...list(d.layers)],
    children: list(d.manifests).map((m) => m.digest),
  };
}
