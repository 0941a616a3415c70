import { useEffect, useRef, useState } from 'react';

interface ConfirmButtonProps {
  /** Text of the first button, e.g. "Delete". */
  label: string;
  /** Accessible name of the first button, e.g. "Delete conversation Trip". */
  ariaLabel: string;
  /** Question shown while confirming. */
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  className?: string;
}

/** A destructive action that asks first, inline (no window.confirm, keyboard-friendly). */
export function ConfirmButton({ label, ariaLabel, question, confirmLabel, onConfirm, disabled, className }: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);

  if (!asking) {
    return (
      <button type="button" className={className ?? 'danger subtle'} aria-label={ariaLabel} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span
      className="confirm"
      role="group"
      aria-label={question}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          setAsking(false);
        }
      }}
    >
      <span className="confirm-question">{question}</span>
      <button
        ref={confirmRef}
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
