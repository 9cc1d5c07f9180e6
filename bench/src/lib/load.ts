import autocannon from "autocannon";

export type LoadResult = {
  requestsPerSecond: number;
  /** Requests answered in all. */
  requests: number;
  p99: number;
  errors: number;
};

/**
 * Closed-loop HTTP load with autocannon from this process: `connections` clients, each sending its
 * next request when the last is answered. `perConnection` gives each connection its own headers and
 * body (its own user and team), called again for every request.
 */
export async function httpLoad(options: {
  url: string;
  method?: "GET" | "POST";
  connections: number;
  /** How long to run; or, with `amount`, how many requests to send in all (the rate is over the time they took). */
  seconds: number;
  amount?: number;
  perConnection?: (connection: number, request: number) => { headers?: Record<string, string>; body?: string; path?: string };
}): Promise<LoadResult> {
  let nextConnection = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds }),
    requests: [
      {
        method: options.method ?? "GET",
        setupRequest: (request: any, context: any) => {
          if (context.connection === undefined) {
            context.connection = nextConnection++;
            context.count = 0;
          }
          const own = options.perConnection?.(context.connection, context.count++) ?? {};
          return { ...request, ...own, headers: { ...request.headers, ...own.headers } };
        },
      },
    ],
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  // Totals over the duration (the per-second average is 0 when no second completed a request).
  const seconds = options.amount ? result.duration : options.seconds;
  return { requestsPerSecond: result.requests.total / seconds, requests: result.requests.total, p99: result.latency.p99, errors: bad };
}
