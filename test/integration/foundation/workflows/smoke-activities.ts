export interface SmokeActivities {
  describeIncident(incidentId: string): Promise<string>;
}

/** Activities built with their dependencies passed in, as every Beacon activity is. */
export function createSmokeActivities(deps: { worker: string }): SmokeActivities {
  return {
    describeIncident: async (incidentId) => `incident ${incidentId} handled by ${deps.worker}`,
  };
}
