// Services of a project. PostgreSQL is the first; each service implements the Service interface.
export interface ServiceStatus {
  name: string;
  state: 'running' | 'stopped' | 'crashed' | 'foreign';
  pid?: number;
  port?: number;
  dataDir?: string;
  logFile?: string;
}

export async function servicesStatus(_root: string): Promise<ServiceStatus[]> {
  return [];
}
