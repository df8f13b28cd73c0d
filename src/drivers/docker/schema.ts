/** `resource` section of a `docker` node definition (formats §3.3). */
import { z } from 'zod';
import { idValue, nonEmptyText, text } from '../schema-kit.js';

/** Where a missing image comes from; anything else would only fail at create time. */
const ORIGIN = /^(dockerhub|local|https?:\/\/.+|file:\/\/.+|\/.*)$/;
const ORIGIN_WHAT = "'dockerhub', 'local', the http(s):// or file:// URL of an image archive, or its absolute path";

export const dockerResourceSchema = z.strictObject(
  {
    type: z.literal('docker'),
    // Not checked further here: the examples ship a placeholder that must import unchanged.
    endpoint: nonEmptyText('the URL of the Docker API'),
    // Occopus's docs say an empty origin means Docker Hub, but it does not (formats §10.11): be explicit.
    origin: z.string({ error: `must be ${ORIGIN_WHAT}` }).regex(ORIGIN, { error: `must be ${ORIGIN_WHAT}` }),
    image: nonEmptyText('an image name'),
    tag: idValue(),
    name: text().optional(),
    /** Extension: the Docker network the container joins (default: the engine's default bridge). */
    network: nonEmptyText('the name of a Docker network').optional(),
  },
  { error: 'must be a mapping' },
);

export type DockerResource = z.infer<typeof dockerResourceSchema>;
