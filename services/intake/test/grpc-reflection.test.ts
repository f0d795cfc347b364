import { execFile } from 'node:child_process';
import { describe, expect } from 'vitest';
import { installedBinary, test as base } from '@beacon/testkit';
import { startTestIntake, type TestIntake } from './harness.js';

/**
 * An operator with grpcurl and no `.proto` file at hand (installed by `make install`, a client
 * nobody here wrote): server reflection lists what intake serves, describes its messages, and is
 * enough to call it — the contract travels with the server.
 */
const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<TestIntake> => {
  const t = await startTestIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `grpcurl [flags] <intake> <verb…>`, plaintext; resolves whatever the exit code. */
function grpcurl(t: TestIntake, verb: readonly string[], flags: readonly string[] = []): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      installedBinary('grpcurl'),
      ['-plaintext', '-max-time', '10', ...flags, `127.0.0.1:${t.intake.port}`, ...verb],
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('gRPC server reflection, read by grpcurl', () => {
  test('lists the services intake hosts, describes their messages, and lets grpcurl call them', async ({
    intake: t,
  }) => {
    const listed = await grpcurl(t, ['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n').sort()).toEqual([
      'beacon.diagnostics.v1.DiagnosticsService',
      'beacon.intake.v1.IntakeService',
      'grpc.health.v1.Health',
    ]);

    const methods = await grpcurl(t, ['list', 'beacon.intake.v1.IntakeService']);
    expect(methods.stdout).toContain('beacon.intake.v1.IntakeService.SubmitReport');
    expect(methods.stdout).toContain('beacon.intake.v1.IntakeService.TransitionIncident');
    // Messages and the enums they use, from the descriptors alone.
    const described = await grpcurl(t, ['describe', 'beacon.intake.v1.SubmitReportRequest']);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/\.beacon\.common\.v1\.Tlp tlp = 3;/);
    expect(described.stdout).toMatch(/google\.protobuf\.Timestamp aware_at = 8;/);

    // A call built from reflection alone: a report in, the incident it opened out.
    const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const submitted = await grpcurl(
      t,
      ['beacon.intake.v1.IntakeService/SubmitReport'],
      [
        '-H',
        `authorization: Bearer ${token}`,
        '-d',
        JSON.stringify({
          title: 'Phishing kit on a municipal domain',
          tlp: 'TLP_GREEN',
          classification: { rsitClass: 'fraud', rsitType: 'phishing' },
          jurisdictions: ['DE-BY'],
          observables: [{ type: 'domain', value: 'login-stadt.example' }],
          awareAt: new Date(Date.now() - 60_000).toISOString(),
        }),
      ],
    );
    expect(submitted.stderr).toBe('');
    const answer = JSON.parse(submitted.stdout) as { incident: { id: string; status: string; tlp: string } };
    expect(answer.incident).toMatchObject({ status: 'INCIDENT_STATUS_REPORTED', tlp: 'TLP_GREEN' });

    // Reflection opens no door: without a token the same call is refused, as any client's is.
    const anonymous = await grpcurl(
      t,
      ['beacon.intake.v1.IntakeService/GetIncident'],
      ['-d', JSON.stringify({ incidentId: answer.incident.id })],
    );
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toContain('Code: Unauthenticated');
  });
});
