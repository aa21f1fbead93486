/**
 * Manifest media types the guard reasons about. A digest is the sha256 of the manifest bytes, so a
 * protective tag is re-put with exactly those bytes and this media type.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html
 */

/** The manifest media types that reference other manifests by digest (`manifests[].digest`). */
export const INDEX_MANIFEST_MEDIA_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];

/**
 * The manifest media types the guard can re-put byte for byte: Docker v2 manifest and manifest list, OCI
 * manifest and index. Asked for explicitly, because BatchGetImage otherwise answers with a Docker v2
 * manifest only.
 */
export const ACCEPTED_MANIFEST_MEDIA_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.manifest.v2+json',
  INDEX_MANIFEST_MEDIA_TYPES[0]!,
  'application/vnd.oci.image.manifest.v1+json',
  INDEX_MANIFEST_MEDIA_TYPES[1]!,
];
