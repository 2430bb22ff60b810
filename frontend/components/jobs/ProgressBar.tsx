/** A labelled progress bar from 0 to 100 %. */
export function ProgressBar({ percent, label, testId }: { percent: number; label: string; testId?: string }) {
  const value = Math.min(100, Math.max(0, Math.round(percent)));
  return (
    <div className="progress">
      <div className="progress-track" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value}>
        <div className="progress-fill" style={{ width: `${value}%` }} />
      </div>
      <span className="progress-text" data-testid={testId}>
        {value}%
      </span>
    </div>
  );
}
