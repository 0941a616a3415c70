/** Metrics, health and request ids: what the manager and the gateway share to be observed. */
export { createMetricBook } from './metric-book';
export type { Counter, Histogram, LabelledValue, Labels, MetricBook } from './metric-book';
export { isDirectLoopback, mayScrape, registerMetricsRoute, registerRequestIds } from './metrics-route';
export type { MetricsAccess } from './metrics-route';
export { REQUEST_ID_HEADER, requestIdOf } from './request-id';
