/**
 * The LocalAPI JSON we read, as zod schemas over the fields we use (the
 * daemon sends many more; zod drops them). Shapes follow tailscale's
 * `ipnstate.Status`, `apitype.WhoIsResponse` and `ipn.ServeConfig` (Go field
 * names, PascalCase). Nullable where Go marshals nil slices/maps as null.
 */
import { z } from 'zod';

export const BACKEND_STATES = ['NoState', 'NeedsLogin', 'NeedsMachineAuth', 'Stopped', 'Starting', 'Running'] as const;
export type BackendState = (typeof BACKEND_STATES)[number];

const strings = z.array(z.string()).nullish();

export const PeerStatusSchema = z.object({
  ID: z.string().optional(),
  HostName: z.string().optional(),
  /** FQDN with a trailing dot, e.g. `box.tail1234.ts.net.` */
  DNSName: z.string().optional(),
  OS: z.string().optional(),
  UserID: z.number().optional(),
  TailscaleIPs: strings,
  Tags: strings,
  Online: z.boolean().optional(),
});

export const UserProfileSchema = z.object({
  ID: z.number().optional(),
  LoginName: z.string(),
  DisplayName: z.string().optional(),
  ProfilePicURL: z.string().optional(),
});

export const StatusSchema = z.object({
  Version: z.string().optional(),
  /** One of BACKEND_STATES; kept as string so a new state does not break parsing. */
  BackendState: z.string(),
  AuthURL: z.string().optional(),
  TailscaleIPs: strings,
  Self: PeerStatusSchema.nullish(),
  Health: strings,
  MagicDNSSuffix: z.string().optional(),
  CurrentTailnet: z
    .object({ Name: z.string(), MagicDNSSuffix: z.string().optional(), MagicDNSEnabled: z.boolean().optional() })
    .nullish(),
  User: z.record(z.string(), UserProfileSchema).nullish(),
});
export type TailscaleStatus = z.infer<typeof StatusSchema>;

export const WhoIsSchema = z.object({
  Node: z.object({
    ID: z.number().optional(),
    StableID: z.string().optional(),
    /** MagicDNS FQDN with a trailing dot. */
    Name: z.string(),
    User: z.number().optional(),
    Tags: strings,
    Addresses: strings,
    ComputedName: z.string().optional(),
  }),
  UserProfile: UserProfileSchema,
});
export type WhoIsResponse = z.infer<typeof WhoIsSchema>;

/** `ipn.HTTPHandler`: exactly one of Path, Proxy, Text. */
export interface ServeHttpHandler {
  Path?: string;
  Proxy?: string;
  Text?: string;
}
export interface ServeWebServerConfig {
  Handlers?: Record<string, ServeHttpHandler> | null;
}
export interface ServeTcpPortHandler {
  HTTPS?: boolean;
  HTTP?: boolean;
  TCPForward?: string;
  TerminateTLS?: string;
}
/**
 * `ipn.ServeConfig`. Fields we do not touch (Services, Foreground, …) are kept
 * verbatim through the index signature so a read-modify-write never drops
 * another program's entries.
 */
export interface ServeConfig {
  /** Keyed by port number (as a string in JSON). */
  TCP?: Record<string, ServeTcpPortHandler> | null;
  /** Keyed by "SNI-name:port". */
  Web?: Record<string, ServeWebServerConfig> | null;
  AllowFunnel?: Record<string, boolean> | null;
  [other: string]: unknown;
}

const HandlerSchema = z.object({ Path: z.string().optional(), Proxy: z.string().optional(), Text: z.string().optional() }).loose();
export const ServeConfigSchema = z
  .object({
    TCP: z
      .record(
        z.string(),
        z.object({ HTTPS: z.boolean().optional(), HTTP: z.boolean().optional(), TCPForward: z.string().optional(), TerminateTLS: z.string().optional() }).loose(),
      )
      .nullish(),
    Web: z.record(z.string(), z.object({ Handlers: z.record(z.string(), HandlerSchema).nullish() }).loose()).nullish(),
    AllowFunnel: z.record(z.string(), z.boolean()).nullish(),
  })
  .loose();
