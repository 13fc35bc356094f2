// The rule set a fresh installation starts with (SPEC §7). Codes match the fault events the
// agent raises (agent/faultWatch.ts), so both land on the same fault.
import { faultRuleSet, type FaultRule, type FaultRuleInput } from '../../schemas/faults.ts';

const defaults: FaultRuleInput[] = [
  {
    code: 'battery_low',
    title: 'Battery below 15% and not charging',
    severity: 'major',
    when: { type: 'metric', metric: 'battery.level', op: '<', value: 15, clearValue: 20, unlessCharging: true },
  },
  { code: 'overheat', title: 'Temperature above 60 °C', severity: 'major', when: { type: 'metric', metric: 'temperatureC', op: '>', value: 60, clearValue: 55 } },
  { code: 'paper_out', title: 'Printer out of paper', severity: 'warning', when: { type: 'printer', statuses: ['paper_out'] } },
  { code: 'printer_error', title: 'Printer jammed or failing', severity: 'warning', when: { type: 'printer', statuses: ['jam', 'error'] } },
  { code: 'card_reader_error', title: 'Card reader error', severity: 'major', when: { type: 'cardReader', readers: ['msr', 'icc', 'nfc'] } },
  {
    code: 'card_reader_error_rate',
    title: 'Card reader failing intermittently (≥ 25% of the last 20 samples)',
    severity: 'warning',
    when: { type: 'cardReaderErrorRate', window: 20, minRatio: 0.25 },
  },
  { code: 'tamper', title: 'Tamper detected', severity: 'critical', autoResolve: false, when: { type: 'tamper' } },
  { code: 'offline', title: 'Offline for more than 30 minutes', severity: 'major', when: { type: 'offline', minutes: 30 } },
  { code: 'storage_low', title: 'Storage below 5% free', severity: 'warning', when: { type: 'metric', metric: 'storage.freePct', op: '<', value: 5, clearValue: 7 } },
  // Raised by the keys module when a terminal is marked compromised (SPEC §5): its keys are revoked
  // and it stays locked until an admin clears it, so the fault never closes by itself.
  { code: 'key_compromise', title: 'Terminal compromised: keys revoked, locked', severity: 'critical', autoResolve: false, when: { type: 'alert', alert: 'key_compromise' } },
  // Raised by the keys module from the counters a terminal reports (docs/keys.md, "DUKPT inventory");
  // it closes when the terminal reports enough counters again, i.e. once a new initial key is installed.
  { code: 'dukpt_counter_low', title: 'DUKPT transaction counters near exhaustion (under 10 % left)', severity: 'major', when: { type: 'alert', alert: 'dukpt_counter_low' } },
  // Raised by the parameters module when a terminal's reported parameters differ from its desired
  // ones for PARAMETERS_DRIFT_ALERT_S after a push settled (docs/parameters.md); closes when they agree.
  { code: 'parameters_drift', title: 'Terminal parameters differ from the desired set', severity: 'warning', when: { type: 'alert', alert: 'parameters_drift' } },
  { code: 'relocated', title: 'Terminal moved outside its merchant location', severity: 'critical', autoResolve: false, when: { type: 'alert', alert: 'relocated' } },
  {
    code: 'txn_limit_breach',
    title: 'Merchant transaction limit exceeded',
    severity: 'major',
    autoResolve: false,
    when: { type: 'alert', alert: 'txn_limit_breach' },
  },
  {
    code: 'suspicious_txn',
    title: 'Suspicious transaction pattern',
    severity: 'major',
    autoResolve: false,
    when: { type: 'alert', alert: 'suspicious_txn' },
  },
];

export function defaultRules(): FaultRule[] {
  return faultRuleSet.parse({ rules: defaults }).rules;
}
