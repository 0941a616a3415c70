import { useEffect, useState } from 'react';

/** A pairing QR code a channel published (a linked-device login); drawn by the qrcode library, loaded only when shown. */
export function ChannelQr({ payload, label }: { payload: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    void import('qrcode')
      .then((qr) => qr.toDataURL(payload, { margin: 1, width: 240 }))
      .then((url) => live && setSrc(url))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [payload]);
  return (
    <figure className="channel-qr">
      {src && <img src={src} width={240} height={240} alt={`${label} pairing QR code`} data-qr={payload} />}
      {!src && !failed && <p className="muted">Drawing the QR code…</p>}
      {failed && <p className="notice error">The QR code could not be drawn.</p>}
      <figcaption>Scan this with the {label} app on your phone to link the assistant.</figcaption>
    </figure>
  );
}
