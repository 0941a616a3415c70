/** Help texts, one per command (printed by --help, and on stderr with a usage error). */
export const USAGE = {
  gateway: `Usage: autoclaw gateway --data DIR [--port N] [--host H] [--allow-origin ORIGIN]... [--allow-host NAME[:PORT]]...
                        [--skills DIR] [--skills-pubkey KEY]...

Runs a gateway in the foreground on the data directory DIR (made on first use,
0700) and prints its URL. --port 0 picks a free port (default 18789). --host defaults
to 127.0.0.1; any other address makes the gateway reachable beyond this machine.
--allow-origin (repeatable) lets a web page on ORIGIN use the gateway.
The gateway answers only to its own names in the Host header (localhost,
127.0.0.1, [::1], --host, the allowed origins' hosts, *.ts.net with
--tailscale-owner); --allow-host (repeatable) adds one, e.g. behind a proxy.
Environment: ANTHROPIC_API_KEY, OPENAI_API_KEY, ANTHROPIC_BASE_URL, OPENAI_BASE_URL,
AUTOCLAW_MODEL (anthropic:NAME | openai:NAME | openai-compatible:NAME),
AUTOCLAW_OPENAI_COMPATIBLE_URL, AUTOCLAW_OPENAI_COMPATIBLE_API_KEY (these win over stored settings).
Managed instances (set by the manager): --instance-id ID, --manager-key KEY, the data
key through --data-key-fd N or --data-key-file PATH (outside DIR, not readable by others),
--tailscale-owner LOGIN (requests through Tailscale Serve must come from that tailnet
login) with --tailscale-socket PATH or AUTOCLAW_TAILSCALE_SOCKET.
Skills: --skills DIR loads skills from another folder (default: the bundled skills/);
--skills-pubkey KEY (repeatable) also trusts skills vetted with that key.
`,
  pair: `Usage: autoclaw pair --data DIR [--role owner|chat]

Prints a one-time pairing code (valid 10 minutes) to pair a browser or app with
the gateway on DIR. Works whether or not the gateway is running. The device
pairs as --role: owner (may change settings, keys and devices) or chat (may
only chat). Without --role: owner for the first device, chat after that.
`,
  chat: `Usage: autoclaw chat --data DIR [--session NAME] -m TEXT

Sends TEXT to the gateway running on DIR as the local operator device and
streams the answer to stdout. The session (default "main") is made on first use.
`,
  history: `Usage: autoclaw history --data DIR --session NAME [--json]

Prints the messages of a session (as a JSON array with --json). Reads through
the running gateway, or the data directory directly when none runs.
`,
  devices: `Usage: autoclaw devices list --data DIR [--json]
       autoclaw devices revoke --data DIR DEVICE_ID
       autoclaw devices role --data DIR DEVICE_ID owner|chat

Lists or revokes paired devices (a revoked device's open connections close at
once), or sets a client device's role: owner (settings, keys, devices) or chat.
`,
  config: `Usage: autoclaw config set --data DIR KEY   (the value is read from stdin)
       autoclaw config audit --data DIR [--json] [--limit N]

KEY is one of: model, anthropic.apiKey, anthropic.baseUrl, openai.apiKey,
openai.baseUrl, openaiCompatible.url, openaiCompatible.apiKey, and the channels'
keys: telegram.botToken, telegram.apiRoot, telegram.webhookUrl, discord.token,
discord.apiRoot, slack.botToken, slack.appToken, slack.apiRoot,
matrix.homeserverUrl, matrix.accessToken, mattermost.url, mattermost.token,
imessage.url, imessage.password, imessage.webhookUrl, imessage.mentionName,
teams.appId, teams.appPassword, teams.openIdMetadataUrl, teams.tokenUrl,
signal.account, signal.url, signal.cliPath,
googlechat.audience, googlechat.serviceAccount, googlechat.certsUrl,
googlechat.tokenUrl, googlechat.apiRoot, whatsapp.url, whatsapp.serverKey, whatsapp.mediaCa, and for every channel <channel>.dmPolicy (pairing|allowlist|open) and
<channel>.allowFrom (comma-separated platform user ids).
API keys and tokens are stored encrypted. An empty value clears the setting. Changing an
endpoint (*.baseUrl, openaiCompatible.url) clears the key stored for the old
one: set the key again afterwards.
"audit" prints the gateway's audit log, newest first (default 50 entries):
settings, endpoints, device roles and revocations, with who and when.
`,
  channels: `Usage: autoclaw channels list --data DIR [--json]
       autoclaw channels enable|disable --data DIR NAME
       autoclaw channels approve --data DIR CHANNEL CODE

Lists the chat channels (--json: an array with name, enabled, state of
connected|reconnecting|down|disabled, since, lastInboundAt, lastError), turns one
on or off, or approves the sender who was given pairing CODE. NAME is one of
telegram, discord, slack, matrix, mattermost, imessage, teams, signal, googlechat. Through the running gateway, or
the data directory directly when none runs (then it applies at the next start).
`,
  manager: `Usage: autoclaw manager --data DIR [--port N] [--host H] [--driver local|kubernetes]
                        [--signup closed|invite|open] [--tls-cert FILE --tls-key FILE]
                        [--allow-origin ORIGIN]... [--allow-host NAME[:PORT]]... [--database postgres://...]
                        [--kube-* ...] [--tailscale ...] [--sleep-after MINUTES] [--provision-asleep]
                        [--warm-standbys N]

Runs the manager in the foreground on the data directory DIR (made on first
use) and prints its URL; while no account exists, also a one-time setup link
that creates the owner account. --port 0 picks a free port (default 18780).
--host defaults to 127.0.0.1. It answers only to its own names in the Host
header (localhost, 127.0.0.1, [::1], --host, the allowed origins' hosts);
--allow-host (repeatable) adds one. --signup: closed (only "autoclaw users create"
and the setup link make accounts; default), invite (with an owner's invite
code) or open. --tls-cert/--tls-key (PEM, both or neither) serve HTTPS.
Kubernetes: --kube-config FILE (default $KUBECONFIG) | --kube-in-cluster,
--kube-namespace (default autoclaw), --kube-image IMAGE (required),
--kube-storage-class, --kube-storage-size (default 1Gi), --kube-cpu REQ[:LIMIT],
--kube-memory REQ[:LIMIT]. The master key is kept in a Kubernetes Secret.
--sleep-after MINUTES (or AUTOCLAW_SLEEP_AFTER_MINUTES; default 15, 0: never):
an instance with no client, no turn and no channel that needs a live connection
sleeps after this long idle; the next client through /i/<id>/ wakes it.
--provision-asleep: a new instance gets its storage and keys but no running
gateway (state sleeping) until its first client connects.
--warm-standbys N (default 1, 0-16; local driver): gateway processes kept started
with their code loaded; a wake hands one the instance instead of starting Node.
Tailscale: --tailscale publishes instances on your tailnet. Local driver: through
this machine's tailscaled (--tailscale-socket PATH; default the platform's) with
Tailscale Serve at https://MAGICDNS-NAME:PORT. Kubernetes: a sidecar per instance
tagged --tailscale-tags LIST (default tag:autoclaw; checked against the tailnet
policy at start), joining with keys minted by an OAuth client (TS_API_CLIENT_ID,
TS_API_CLIENT_SECRET) or a pasted key (TS_AUTHKEY) — environment only.
--tailscale-owner LOGIN: the tailnet login gateways accept (default: the owner's e-mail).
--database postgres://USER:PASSWORD@HOST/DB (or AUTOCLAW_DATABASE_URL) keeps the
manager's state in PostgreSQL instead of DIR/manager.db (SQLite, one manager per
directory): several replicas may then run on it; one of them (the leader) supervises.
Environment: AUTOCLAW_MASTER_KEY_STORE=auto|keychain|file (default auto: the OS
keychain when there is one, else DIR/master.key with a warning).
`,
  users: `Usage: autoclaw users create --data DIR --email E [--role owner|member]   (password on stdin)
       autoclaw users reset-password --data DIR --email E                 (password on stdin)

Makes an account (the first one is the owner) or sets a new password (every
session of the account ends). Through the running manager, or the manager's
state directly when none runs (--database URL or AUTOCLAW_DATABASE_URL when it
is in PostgreSQL).
`,
  audit: `Usage: autoclaw audit verify --data DIR [--database URL] [--public-key KEY] [--json]

Checks the manager's audit log: every entry's hash chain and signature, the
signed head kept apart from it, and the copy of the head kept with the master
key. Exit 0 when intact, 1 naming the first bad entry (edited, reordered,
removed, truncated, re-chained without the key, or rolled back to an older
database). The public key defaults to the one of DIR/manager.key. --database
(or AUTOCLAW_DATABASE_URL) when the state is in PostgreSQL.
`,
  instances: `Usage: autoclaw instances create --data DIR --owner E [--database URL] [--json]
       autoclaw instances list --data DIR [--database URL] [--json]
       autoclaw instances start|stop|delete --data DIR ID [--database URL] [--json]
       autoclaw instances update --data DIR ID [--version V] [--json]
       autoclaw instances rollback --data DIR ID [--json]
       autoclaw instances primary --data DIR ID [--json]

Creates the instance of the account E (one per user; it is started and waits
until it runs), lists every instance (--json: an array with id, owner, state,
and for the local driver pid and port), or starts, stops or deletes one.
Through the running manager, or the data directory directly when none runs
(local instances only). Gateways keep running after the command ends.
update: to release V (default: the newest of the instance's channel) — pre-update
backup, trial start on a copy of the data, switch, health watch; rolled back on
its own (exit 1, with the reason) when any step fails. rollback: to the previous
version (with the data from before the update when that build cannot read today's).
primary: the account of instance ID uses it from now on (an account has one
primary instance — the app's default, instances.mine — and may have others,
e.g. one restored with "backup restore --into-new"); list --json marks the
others with "primary": false.
`,
  releases: `Usage: autoclaw releases add --data DIR MANIFEST [--release-pubkey KEY]...
       autoclaw releases list --data DIR [--json]

add: checks the release manifest's Ed25519 signature (the built-in release key,
the manager's --release-pubkey keys, or --release-pubkey here when no manager
runs) and its artifact's SHA-256, unpacks the build into DIR/releases/VERSION.
list --json: version, channel, artifactSha256, minSchemaVersion, notes, addedAt.
`,
  backup: `Usage: autoclaw backup create|list --data DIR ID [--json]
       autoclaw backup verify|restore --data DIR ID BACKUP_ID [--into-new] [--json]

create: an encrypted backup of instance ID now (kind manual). list --json: id,
createdAt, bytes, kind (scheduled|manual|pre-update). verify: every integrity
check a restore makes. restore: stops the instance between turns, restores the
backup, starts it and waits until it is ready. restore --into-new: a new
instance of the same account is made from the backup (the source keeps running
untouched) and started; prints its id (--json: the instance). Make it the
account's primary with "instances primary", delete the old one with "instances delete".
`,
  volume: `Usage: autoclaw volume backup --data DIR --data-key-file FILE --instance-id ID --backup-id BID --created-at MS
       autoclaw volume restore --data DIR --data-key-file FILE --instance-id ID --backup-id BID --sha256 HEX
       autoclaw volume copy --from DIR --data DIR

What the manager's Kubernetes Jobs run on an instance's volume: an encrypted
backup to the S3 target (AUTOCLAW_BACKUP_S3_*), a checked restore from it, or a
consistent copy of one volume onto another (a trial's clone).
`,
  skills: `Usage: autoclaw skills vet DIR --key FILE
       autoclaw skills verify DIR [--skills-pubkey KEY]... [--json]
       autoclaw skills list --data DIR [--json] [--skills DIR] [--skills-pubkey KEY]...
       autoclaw skills enable|disable --data DIR NAME
       autoclaw skills approvals --data DIR [--json]
       autoclaw skills revoke --data DIR APPROVAL_ID

vet: hashes every file of every skill folder in DIR and writes DIR/manifest.json
and DIR/manifest.sig, signed with the Ed25519 private key in FILE (PEM); prints
the public key. verify: checks DIR against its manifest (exit 1 when a skill is
refused, with the reason). list: each skill of the data directory's gateway
(--json: name, version, state enabled|disabled|refused, reason). enable/disable
take effect at once on a running gateway. approvals/revoke: standing approvals
of risky tools ("for this conversation", "always").
`,
  usage: `Usage: autoclaw usage --data DIR [--since YYYY-MM-DD] [--by day|model|session] [--json]

Prints what the model calls cost, grouped by day (this machine's time zone;
TZ sets another), model or session (default: day), from --since on. Costs are
integer micro-dollars in --json (1 USD = 1000000); calls of models missing
from the price table are counted as unpriced, never as $0.
`,
  budget: `Usage: autoclaw budget set --data DIR [--daily USD] [--monthly USD] [--soft PERCENT] [--json]
       autoclaw budget show --data DIR [--json]

Hard caps on what the assistant may spend: every model call is refused
before it is sent when its worst case would pass a cap. --daily and
--monthly are US dollars (e.g. 2.50; "none" removes the cap); --soft warns
once per day or month when spend passes PERCENT of a cap. A running gateway
applies a change at once. Caps set by the plan cannot be raised here.
Per-conversation and token caps are set in the app (Costs → Budget).
`,
} as const;

export type CommandName = keyof typeof USAGE;

export const MAIN_USAGE = `Usage: autoclaw <command> [flags]

Commands:
  gateway   run a gateway on a data directory
  pair      print a one-time pairing code
  chat      send one message and stream the answer
  history   print a session's messages
  devices   list or revoke paired devices, or set their role
  config    set a provider key or setting, or read the audit log
  manager   run the manager (accounts, instances) on a data directory
  users     create a manager account or reset its password
  audit     verify the manager's audit log
  instances create, list, start, stop, delete, update, roll back instances, or pick the primary
  releases  add or list signed gateway releases
  backup    create, list, verify or restore an instance's backups
  skills    vet, verify, list, enable or disable skills; standing approvals
  usage     print what model calls cost, by day, model or session
  budget    set or show the spending caps
  channels  list chat channels, enable or disable one, approve a sender
  volume    back up, restore or copy an instance volume (run by Kubernetes Jobs)

Run "autoclaw <command> --help" for a command's flags.
`;
