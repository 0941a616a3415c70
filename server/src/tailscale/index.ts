/**
 * Private networking through Tailscale: the LocalAPI client (Unix socket,
 * Windows pipe, macOS app port + token), Serve publishing, the gateway's
 * identity check for requests through Serve, the Tailscale API (OAuth token,
 * auth keys, policy check) and the desktop's status reader.
 */
export {
  LOCALAPI_HOST,
  LINUX_SOCKET_PATH,
  MACOS_OSS_SOCKET_PATH,
  WINDOWS_PIPE_PATH,
  MACSYS_DIR,
  resolveLocalApiTransport,
  readMacsysPortAndToken,
  describeTransport,
} from './localapi-transport';
export type { LocalApiTransport, ResolveTransportOptions } from './localapi-transport';
export { createLocalApiClient } from './localapi-client';
export type { LocalApiClient, LocalApiClientOptions, ServeConfigWithEtag, UnreachableReason } from './localapi-client';
export { BACKEND_STATES } from './localapi-types';
export type { BackendState, TailscaleStatus, WhoIsResponse, ServeConfig } from './localapi-types';
export { withWebProxy, withoutWebProxy, currentProxy, sidecarServeConfig, hostPortKey } from './serve-config';
export type { WebProxyEntry } from './serve-config';
export { publishInstance, unpublishInstance, nodeDnsName } from './serve';
export type { PublishOptions, PublishedInstance } from './serve';
export { createTailscaleIdentityCheck, tailscaleOnRequest, isLoopbackAddress, forwardedClient } from './identity';
export type { TailscaleIdentityCheck, TailscaleIdentityCheckOptions, IdentityDecision, IncomingLike } from './identity';
export { createTailscaleApiClient, DEFAULT_TAILSCALE_API } from './api-client';
export type { TailscaleApiClient, TailscaleApiClientOptions, TailscaleApiCredentials, AuthKeyRequest, MintedAuthKey, PolicyFile } from './api-client';
export { checkTagsAllowed, assertTagNames } from './policy-check';
export type { TagCheckResult } from './policy-check';
export { parseHuJson, standardizeHuJson } from './hujson';
export { readDesktopTailscaleStatus } from './desktop-status';
export type { DesktopTailscaleStatus, DesktopTailscaleState } from './desktop-status';
