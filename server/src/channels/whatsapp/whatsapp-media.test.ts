/**
 * WhatsApp media through baileys against the local WhatsApp server's media
 * host (server/src/testing/whatsapp-media.ts, HTTPS with a self-signed
 * certificate the channel trusts through `whatsapp.mediaCa`): files that
 * contacts send are encrypted there as a phone does and downloaded and
 * decrypted by baileys, stored before the receipt; files the agent writes are
 * encrypted and uploaded by baileys, and the server checks their hashes and
 * MAC and decrypts them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { WhatsAppContact, WhatsAppServer } from '../../testing/whatsapp-server';
import type { ChannelGateway } from '../test-kit';
import { linkWhatsApp, whatsAppFixture } from './test-link';

let wa: WhatsAppServer;
let h: ChannelGateway;

const ALICE: WhatsAppContact = { number: '15550002222', name: 'Alice' };
/** Not a real JPEG: the bytes only have to arrive unchanged. */
const PHOTO = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('a photo of the shopping list '.repeat(40))]);

const link = () => linkWhatsApp(h, wa, [['whatsapp.dmPolicy', 'open'], ['whatsapp.mediaCa', wa.mediaCa]]);
const lastPrompt = () => JSON.stringify(h.gw.wire.requests.at(-1)!.body);
const storedFile = (said: string, name: string) => {
  const path = new RegExp(`attached file: (channels/whatsapp/[^ ]+${name.replace('.', '\\.')})`).exec(said)?.[1];
  expect(path, `a stored file named ${name} in ${said.slice(0, 400)}`).toBeTruthy();
  return readFileSync(join(h.gw.dir, 'workspace', path!));
};

const fixture = whatsAppFixture();
beforeEach(() => {
  ({ wa, h } = fixture);
});

describe('whatsapp media in', () => {
  it('stores a photo before the receipt and hands it to the agent; a redelivery makes no second turn', async () => {
    await link();
    const id = await wa.incoming(ALICE, 'what is on this list?', { file: { kind: 'image', bytes: PHOTO, mimeType: 'image/jpeg' } });
    await wa.waitForSent((s) => s.text.startsWith('Echo: what is on this list?'));
    expect(storedFile(lastPrompt(), 'image.jpeg').equals(PHOTO)).toBe(true);
    expect(wa.receipts.has(id)).toBe(true);
    wa.redeliver(id);
    await wa.incoming(ALICE, 'thanks');
    await wa.waitForSent((s) => s.text === 'Echo: thanks');
    expect(h.gw.wire.requests).toHaveLength(2);
  });

  it('sends the receipt only after the file was downloaded and stored', async () => {
    await link();
    const release = wa.media.holdDownloads();
    const id = await wa.incoming(ALICE, 'slow photo', { file: { kind: 'image', bytes: PHOTO, mimeType: 'image/jpeg' } });
    await h.until('the download to start', () => wa.media.downloads === 1);
    // Decrypted, its file on the way: neither stored nor receipted yet (baileys takes the next message after this one).
    expect(wa.receipts.has(id)).toBe(false);
    expect(JSON.stringify(h.gw.gateway.store.dump())).not.toContain('slow photo');
    release();
    await h.until('the receipt', () => wa.receipts.has(id));
    expect(JSON.stringify(h.gw.gateway.store.dump())).toContain('slow photo');
    await wa.waitForSent((s) => s.text.startsWith('Echo: slow photo'));
  });

  it('takes a document in a group when the caption mentions it, and ignores one that does not', async () => {
    await link();
    const group = { id: '120363000000000002@g.us', subject: 'Flat' };
    const pdf = Buffer.from('%PDF-1.4 the rent contract');
    await wa.incoming(ALICE, 'for the record', { group, file: { kind: 'document', bytes: pdf, mimeType: 'application/pdf', fileName: 'old.pdf' } });
    await wa.incoming(ALICE, `@${wa.phone} please read`, { group, mentionsMe: true, file: { kind: 'document', bytes: pdf, mimeType: 'application/pdf', fileName: 'rent.pdf' } });
    await wa.waitForSent((s) => s.to === group.id && s.text.startsWith('Echo: please read'));
    expect(h.gw.wire.requests).toHaveLength(1);
    expect(storedFile(lastPrompt(), 'rent.pdf').equals(pdf)).toBe(true);
  });

  it('tells the sender when the file expired on the server, and the text still reaches the agent', async () => {
    await link();
    await wa.incoming(ALICE, 'see the photo', { file: { kind: 'image', bytes: PHOTO, mimeType: 'image/jpeg', failWith: 410 } });
    const notice = await wa.waitForSent((s) => s.text.startsWith('I could not receive a file'));
    expect(notice.text).toContain('image.jpeg: WhatsApp no longer has the file (410: expired); ask the sender to send it again');
    expect(notice.text).toContain('Your message reached the assistant without it.');
    const echo = await wa.waitForSent((s) => s.text.startsWith('Echo: see the photo'));
    expect(echo.text).toContain('[attachment image.jpeg could not be fetched: WhatsApp no longer has the file (410');
  });

  it('refuses a damaged file (its checksum fails) with a clear message', async () => {
    await link();
    await wa.incoming(ALICE, 'the scan', { file: { kind: 'document', bytes: Buffer.from('x'.repeat(300)), mimeType: 'text/plain', fileName: 'scan.txt', tampered: true } });
    const notice = await wa.waitForSent((s) => s.text.startsWith('I could not receive a file'));
    expect(notice.text).toMatch(/scan\.txt: the file (did not match its checksum|could not be decrypted)/);
    await wa.waitForSent((s) => s.text.startsWith('Echo: the scan'));
    expect(h.gw.wire.requests).toHaveLength(1);
  });

  it('does not fetch a file over the size limit, and says so', async () => {
    await link();
    await wa.incoming(ALICE, '', { file: { kind: 'video', bytes: Buffer.from('tiny'), mimeType: 'video/mp4', statedLength: 25 * 1024 * 1024 } });
    const notice = await wa.waitForSent((s) => s.text.startsWith('I could not receive a file'));
    expect(notice.text).toBe('I could not receive a file — video.mp4: 25.0 MB, larger than the 20.0 MB I take. Please send it again (or a smaller one).');
    await wa.waitForSent((s) => s.text.startsWith('Echo: (files only)'));
    expect(lastPrompt()).toContain('not saved: larger than 20.0 MB');
  });
});

describe('whatsapp media out', () => {
  it('sends the file the agent wrote as a document (encrypted, uploaded, decrypted by the server to the same bytes), retried after a failed upload', async () => {
    await link();
    await wa.incoming(ALICE, '/tool workspace_write_file {"path":"shop.txt","content":"milk, eggs"}');
    const prompt = await wa.waitForSent((s) => s.text.startsWith('Allow workspace_write_file?'));
    const code = /approve ([a-z0-9]+)/i.exec(prompt.text)![1]!;
    wa.media.failUploads(1);
    await wa.incoming(ALICE, `approve ${code}`);
    const sent = await wa.waitForSent((s) => s.file !== undefined, 20_000);
    expect(sent.to).toBe(`${ALICE.number}@s.whatsapp.net`);
    expect(sent.file).toMatchObject({ kind: 'document', name: 'shop.txt', mimeType: 'text/plain' });
    expect(sent.file!.bytes.toString()).toBe('milk, eggs');
    expect(wa.media.uploads).toBe(1);
    await wa.waitForSent((s) => s.text === 'Tool workspace_write_file returned: Wrote 10 bytes to shop.txt');
    expect(wa.sent.filter((s) => s.file)).toHaveLength(1);
  });

  it('sends a PNG the agent wrote as an image message', async () => {
    await link();
    await wa.incoming(ALICE, '/tool workspace_write_file {"path":"chart.png","content":"not really a png"}');
    const prompt = await wa.waitForSent((s) => s.text.startsWith('Allow workspace_write_file?'));
    await wa.incoming(ALICE, `approve ${/approve ([a-z0-9]+)/i.exec(prompt.text)![1]!}`);
    const sent = await wa.waitForSent((s) => s.file !== undefined);
    expect(sent.file).toMatchObject({ kind: 'image', mimeType: 'image/png' });
    expect(sent.file!.bytes.toString()).toBe('not really a png');
  });

  /** The agent writes `path` (approved), and the file message that went out. */
  async function agentSends(path: string, content: string) {
    await link();
    await wa.incoming(ALICE, `/tool workspace_write_file ${JSON.stringify({ path, content })}`);
    const prompt = await wa.waitForSent((s) => s.text.startsWith('Allow workspace_write_file?'));
    await wa.incoming(ALICE, `approve ${/approve ([a-z0-9]+)/i.exec(prompt.text)![1]!}`);
    return wa.waitForSent((s) => s.file !== undefined, 20_000);
  }

  it('sends an MP4 the agent wrote as a video message, without a preview frame', async () => {
    const video = await agentSends('clip.mp4', 'not really a video');
    expect(video.file).toMatchObject({ kind: 'video', mimeType: 'video/mp4' });
    expect(video.file!.bytes.toString()).toBe('not really a video');
    // None made: baileys would run ffmpeg through a shell for one.
    expect(video.message.videoMessage?.jpegThumbnail?.length ?? 0).toBe(0);
  });

  it('sends an Ogg the agent wrote as a voice note, an MP3 as an audio message', async () => {
    const voice = await agentSends('reply.ogg', 'not really opus');
    expect(voice.file).toMatchObject({ kind: 'audio', mimeType: 'audio/ogg; codecs=opus', voice: true });
    expect(voice.file!.bytes.toString()).toBe('not really opus');
    await wa.waitForSent((s) => s.text === 'Tool workspace_write_file returned: Wrote 15 bytes to reply.ogg');

    await wa.incoming(ALICE, `/tool workspace_write_file ${JSON.stringify({ path: 'song.mp3', content: 'not really an mp3' })}`);
    const prompt = await wa.waitForSent((s) => s.text.startsWith('Allow workspace_write_file?') && s.text.includes('song.mp3'));
    await wa.incoming(ALICE, `approve ${/approve ([a-z0-9]+)/i.exec(prompt.text)![1]!}`);
    const song = await wa.waitForSent((s) => s.file?.mimeType === 'audio/mpeg', 20_000);
    expect(song.file).toMatchObject({ kind: 'audio', voice: false });
    expect(song.file!.bytes.toString()).toBe('not really an mp3');
  });
});
