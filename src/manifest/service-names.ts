// Every server devenv runs per checkout, by its devenv.toml name (no imports: the hot path reads it).
export const SERVICE_NAMES = ['postgres', 'redis', 'mysql', 'caddy', 'memcached', 'rabbitmq', 'mosquitto', 'nats'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
