/** Matrix as the registry knows it (no SDK here: matrix-js-sdk loads with the adapter). */
import type { ChannelDefinition } from '../types';

export const MATRIX: ChannelDefinition = {
  name: 'matrix',
  label: 'Matrix',
  required: ['matrix.homeserverUrl', 'matrix.accessToken'],
  connection: ['matrix.homeserverUrl', 'matrix.accessToken'],
  // A /sync long poll returns within its timeout (25 s) when nothing happens.
  livenessMs: 40_000,
  load: async () => (await import('./adapter')).createMatrixAdapter,
};
