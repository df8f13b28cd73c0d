/**
 * `config_management` section for `dummy`, the manager that does nothing. It is what a missing
 * section means; writing it out explicitly is accepted too (Occopus crashes on it, formats §10.7).
 */
import { z } from 'zod';

export const dummyConfigManagerSchema = z.strictObject({ type: z.literal('dummy') }, { error: 'must be a mapping' });

export type DummyConfigManager = z.infer<typeof dummyConfigManagerSchema>;
