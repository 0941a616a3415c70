/** Test support (never imported by product code): wire-protocol servers for the real SDKs. */
export type * from './wire-types';
export { startAnthropicWireServer } from './anthropic-wire-server';
export { startOpenAIWireServer } from './openai-wire-server';
export type { WireServerHandle } from './wire-server-base';
export { collectEvents, textOf, type Collected } from './collect-events';
export { startK8sApiServer, type K8sApiServer, type K8sApiServerOptions, type K8sRecordedRequest } from './k8s-api-server';
export { K8sStore, K8sStatusError, type K8sObject } from './k8s-api-store';
export { startTailscaleLocalApiServer, RUNNING_STATUS, type TailscaleLocalApiServer, type TailscaleLocalApiServerOptions } from './tailscale-localapi-server';
export { startTailscaleApiServer, DEFAULT_POLICY, type TailscaleApiServer, type ApiOAuthClient } from './tailscale-api-server';
export { startApiServer, sendJson, sendText, type ApiServer, type ApiRequest, type ApiHandler } from './api-server-base';
export { startOpenMeteoServer, OPEN_METEO_PLACES, OPEN_METEO_TODAY } from './open-meteo-server';
export { startGitHubApiServer, type GitHubApiServer, type GitHubIssue, type GitHubRepo } from './github-api-server';
export { startHueBridgeServer, type HueBridgeServer, type HueLight } from './hue-bridge-server';
export { startSonosSpeakerServer, type SonosSpeakerServer, type SonosTrack } from './sonos-upnp-server';
export { startGoogleApiServer, type GoogleApiServer, type GmailMessage, type CalendarEvent } from './google-api-server';
export { parsePrometheusText, type PromFamily, type PromSample, type PromType } from './prom-text';
export { startStripeApiServer, stripeSignatureHeader, parseStripeForm, type StripeApiServer, type StripeEvent } from './stripe-api-server';
export { startS3Server, S3_MIN_PART_BYTES, type S3Server, type S3Request } from './s3-server';
