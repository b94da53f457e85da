// The deployables this tool knows. Each Deployment and its main container are named after the
// service and carry app.kubernetes.io/name=<service>; refusing other names catches typos before
// anything touches the cluster.
export const SERVICES = ['users', 'shifts'] as const;
export type Service = (typeof SERVICES)[number];

/** The namespace used when neither --namespace nor the kubeconfig context names one. */
export const DEFAULT_NAMESPACE = '7shifts';
