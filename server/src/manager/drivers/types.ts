/**
 * How the manager runs instances. A driver only starts, stops and inspects
 * gateway processes (or pods); the instance state machine, health probes and
 * restarts live in the manager above it.
 */

/** Everything a gateway needs at provisioning. Secrets travel in `dataKey` only. */
export interface InstanceSpec {
  instanceId: string;
  ownerEmail: string;
  /** 32-byte data key that encrypts the instance's secrets; never written beside its data. */
  dataKey: Buffer;
  /** base64url raw Ed25519 public key of the manager (verifies pairing tickets and the manager device). */
  managerPublicKey: string;
  /** Origins the gateway accepts besides its own (the manager's UI, the desktop app's scheme). */
  allowedOrigins: string[];
  /** Gateway version to run (its release, once updated). */
  version: string;
  /**
   * Kubernetes: the image of `version`'s signed release, pinned by digest
   * (`IMAGE@sha256:…`), run instead of the driver's `IMAGE:VERSION` so a moved
   * tag cannot change the code; absent for the built-in build.
   */
  image?: string;
  /** Memory limit in MiB (the supervisor restarts an instance that passes it). */
  memoryLimitMb: number;
  /** Extra environment for the gateway (provider base URLs, model); never secrets. */
  env: Record<string, string>;
  /**
   * With Tailscale: the tailnet login whose requests through Serve the
   * gateway accepts (`--tailscale-owner`), and, for the local driver, the
   * LocalAPI socket it asks (`--tailscale-socket`; a Kubernetes sidecar's is fixed).
   */
  tailscale?: { ownerLogin: string; socketPath?: string };
}

/** Where a running instance is, as the driver sees it. */
export interface InstanceRuntime {
  /** http://host:port the manager probes and proxies to. */
  url: string;
  /** Local driver: the gateway's pid. */
  pid?: number;
  port?: number;
}

export interface DriverStatus {
  /** The process/pod exists and is not known to have exited. */
  alive: boolean;
  runtime: InstanceRuntime | null;
  /** Resident memory in MiB when known. */
  rssMb?: number;
  /** Last lines the instance wrote (for crash-loop reports). */
  lastLogLines?: string[];
  exitCode?: number | null;
}

export interface InstanceDriver {
  readonly kind: 'local' | 'kubernetes';
  /** Creates the instance's storage and starts it; resolves once it was started (not necessarily ready). */
  provision(spec: InstanceSpec): Promise<InstanceRuntime>;
  start(spec: InstanceSpec): Promise<InstanceRuntime>;
  /**
   * Creates the instance's storage without starting it (provisioned asleep:
   * the first wake starts it). A driver without it provisions by starting.
   */
  prepare?(spec: InstanceSpec): Promise<void>;
  /** Graceful stop (SIGTERM / scale to 0), forced after `graceMs`. */
  stop(instanceId: string, opts?: { graceMs?: number }): Promise<void>;
  /** Stops and removes everything the instance had (data included). */
  destroy(instanceId: string): Promise<void>;
  status(instanceId: string): Promise<DriverStatus>;
  /**
   * After a manager restart: finds instances that still run (local: pid,
   * port and instance id checked over /healthz) so they are adopted, not killed.
   */
  adopt(instanceId: string, last: InstanceRuntime | null): Promise<InstanceRuntime | null>;
  /**
   * Resolves once the instance is ready, when the driver can tell without
   * reaching the gateway (Kubernetes: the pod's readiness, which kubelet
   * probes on /readyz; local: the runtime file the gateway writes once
   * ready); without it the manager polls /readyz itself.
   */
  waitForReady?(instanceId: string, timeoutMs: number): Promise<void>;
  /**
   * Gets `count` starts of `spec` (its version and limits) ready ahead of
   * time (local: warm standbys of that build, which end unused after a
   * while), so an update's switch or a restore starts without Node's start-up.
   */
  prewarm?(spec: InstanceSpec, count: number): void;
  /** Data operations the driver runs itself, where the manager cannot reach the instance's files (Kubernetes: Jobs on its volume). */
  readonly volumes?: VolumeOps;
  close(): Promise<void>;
}

/** An S3-compatible backup store a job writes to and reads from (credentials go to the job as a Secret, never logged). */
export interface VolumeBackupStore {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface VolumeOps {
  /** Writes an encrypted backup of the instance's volume to `store` as `<instanceId>/<backupId>.acbk` (the instance may run). */
  backup(spec: InstanceSpec, o: { backupId: string; createdAt: number; store: VolumeBackupStore }): Promise<void>;
  /**
   * Replaces the data on `into`'s volume (default the instance's; the gateway stopped) by the backup's, every hash checked.
   * `newInstance`: `into` is a new instance with a data key of its own (its data-key Secret is written first); the Job
   * re-seals the restored secrets under that key on the new volume.
   */
  restore(spec: InstanceSpec, o: { backupId: string; sha256: string; store: VolumeBackupStore; into?: string; newInstance?: InstanceSpec }): Promise<void>;
  /** Makes `cloneId`'s volume a copy of the instance's: a VolumeSnapshot where the cluster has them, else a copy Job. */
  clone(spec: InstanceSpec, cloneId: string): Promise<'snapshot' | 'copy'>;
  /** The instance changes version in place (a rolling image change), so an update does not stop it first. */
  readonly rollsInPlace: boolean;
}
