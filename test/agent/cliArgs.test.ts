import { describe, expect, it } from 'vitest';
import { parseAgentArgs, UsageError } from '../../agent/cliArgs.ts';
import { parseSimulateArgs } from '../../scripts/simulate/args.ts';
import { defaultFaults } from '../../scripts/simulate/faults.ts';

const agentBase = ['--server', 'http://127.0.0.1:8080', '--serial', 'S-1', '--model', 'PAX-A920', '--enroll-token', 't'];

describe('agent flags', () => {
  it('applies defaults', () => {
    expect(parseAgentArgs(agentBase)).toEqual({
      server: 'http://127.0.0.1:8080',
      serial: 'S-1',
      model: 'PAX-A920',
      enrollToken: 't',
      stateDir: 'agent-state/S-1',
      healthIntervalS: 60,
      fwVersion: '1.0.0',
    });
  });

  it.each([
    [['--server', 'http://x'], /missing --serial, --model/],
    [[...agentBase, '--health-interval-s', '0'], /--health-interval-s: expected a whole number/],
    [[...agentBase, '--mqtt-url', 'http://x'], /--mqtt-url: scheme must be one of/],
    [[...agentBase, '--server', 'nope'], /--server: "nope" is not a URL/],
    [[...agentBase, '--serial', '../etc'], /--serial/],
    [[...agentBase, '--fw-version', 'v1'], /not a semver/],
    [[...agentBase, '--what'], /Unknown option '--what'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseAgentArgs(argv)).toThrow(UsageError);
    expect(() => parseAgentArgs(argv)).toThrow(message);
  });
});

describe('simulate flags', () => {
  const base = ['--server', 'http://127.0.0.1:8080', '--devices', '100', '--enroll-token', 'e', '--admin-token', 'a'];
  it('applies defaults', () => {
    expect(parseSimulateArgs(base)).toMatchObject({ devices: 100, procs: 1, prefix: 'SIM', model: 'PAX-A920', healthIntervalS: 10, faults: defaultFaults, stateDir: 'agent-state' });
    expect(parseSimulateArgs(base).durationS).toBeUndefined();
  });
  it('parses the rest', () => {
    expect(parseSimulateArgs([...base, '--procs', '4', '--duration-s', '30', '--faults', 'none'])).toMatchObject({ procs: 4, durationS: 30, faults: {} });
  });
  it.each([
    [base.slice(0, 4), /missing --enroll-token, --admin-token/],
    [[...base, '--devices', 'many'], /--devices/],
    [[...base, '--faults', 'paper=x'], /paper must be a fraction/],
    [[...base, '--prefix', 'a/b'], /--prefix/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseSimulateArgs(argv)).toThrow(message);
  });
});
