/** @jsxImportSource preact */
// One row of the fault queue: a selection box for bulk actions, severity, what and where, state,
// when, who; Acknowledge / Resolve for those who may triage, and the notes & assignment toggle.
import { StateBadge, Time } from '../../ui.tsx';
import { where, type ListedFault } from './faultView.ts';

export interface FaultRowProps {
  f: ListedFault;
  canTriage: boolean;
  selected: boolean;
  expanded: boolean;
  fresh: boolean;
  showUpdated: boolean;
  onSelect(selected: boolean): void;
  onAcknowledge(): void;
  onResolve(): void;
  onToggle(): void;
}

export function FaultRow(props: FaultRowProps) {
  const { f, canTriage } = props;
  const resolved = f.state === 'resolved';
  return (
    <tr
      class={`fault-row sev-row-${f.severity}${props.fresh ? ' is-new' : ''}${props.selected ? ' is-selected' : ''}`}
      data-fault-id={f.id}
      data-code={f.code}
      data-state={f.state}
    >
      <td>
        <input
          type="checkbox"
          checked={props.selected}
          aria-label={`Select ${where(f)}`}
          onChange={(e) => props.onSelect(e.currentTarget.checked)}
        />
      </td>
      <td>
        <span class={`badge sev sev-${f.severity}`}>{f.severity}</span>
      </td>
      <td>
        <strong>{f.title}</strong>
        <div class="muted small">
          <code>{f.code}</code>
          {f.detail ? ` · ${f.detail}` : ''}
        </div>
      </td>
      <td>
        <a href={`/ui/devices/${encodeURIComponent(f.deviceId)}`}>{f.serial ?? f.deviceId}</a>
        {f.model ? <div class="muted small">{f.model}</div> : null}
      </td>
      <td>
        <StateBadge state={f.state} />
        {resolved && f.resolution ? (
          <div class="muted small">{f.resolution === 'auto' ? 'cleared by itself' : `by ${f.resolvedByName ?? 'hand'}`}</div>
        ) : null}
      </td>
      <td>
        <Time iso={f.openedAt} />
        {props.showUpdated && f.updatedAt ? (
          <div class="muted small">
            changed <Time iso={f.updatedAt} />
          </div>
        ) : null}
      </td>
      <td>{f.assigneeName ?? f.assigneeId ?? <span class="muted">unassigned</span>}</td>
      <td>
        <div class="row-actions">
          {f.state === 'open' && canTriage ? (
            <button
              type="button"
              class="btn btn-small"
              data-action="acknowledge"
              aria-label={`Acknowledge ${where(f)}`}
              onClick={props.onAcknowledge}
            >
              Acknowledge
            </button>
          ) : null}
          {!resolved && canTriage ? (
            <button type="button" class="btn btn-small" data-action="resolve" aria-label={`Resolve ${where(f)}`} onClick={props.onResolve}>
              Resolve
            </button>
          ) : null}
          <button
            type="button"
            class="btn btn-small btn-quiet"
            data-action="details"
            aria-expanded={props.expanded ? 'true' : 'false'}
            aria-controls={`fd-${f.id}`}
            aria-label={`${props.expanded ? 'Hide' : 'Show'} notes and assignment for ${where(f)}`}
            onClick={props.onToggle}
          >
            {props.expanded ? 'Hide notes' : 'Notes & assign'}
          </button>
        </div>
      </td>
    </tr>
  );
}
