/** `resource` section of a `docker` node definition (formats §3.3). */
import { z } from 'zod';
import { idValue, nonEmptyText, text } from '../schema-kit.js';

export const dockerResourceSchema = z.strictObject(
  {
    type: z.literal('docker'),
    endpoint: nonEmptyText('the URL of the Docker API'),
    // Occopus's docs say an empty origin means Docker Hub, but it does not (formats §10.11): be explicit.
    origin: nonEmptyText("'dockerhub', 'local' or the URL of an image archive"),
    image: nonEmptyText('an image name'),
    tag: idValue(),
    name: text().optional(),
  },
  { error: 'must be a mapping' },
);

export type DockerResource = z.infer<typeof dockerResourceSchema>;
