/** The commands' flag parser lives beside the gateway's config, which uses it too. */
export { parseFlags } from '../gateway';
